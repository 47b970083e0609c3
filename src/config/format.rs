//! Canonical layout of keyform HCL files: the engine behind `keyform fmt`.
//!
//! This module owns [`format_source`], which parses a file with `hcl-edit`
//! and re-emits it following the rules of `terraform fmt`: two-space
//! indentation per bracket nesting level, one space around `=`, aligned `=`
//! in runs of consecutive single-line attributes (and object items), block
//! headers with single spaces, empty blocks as `{}`, at most one blank line
//! in a row and none right inside brackets, no trailing whitespace, LF line
//! endings and exactly one final newline. Comments of every kind stay where
//! they were, re-indented; strings, templates and heredocs are copied byte
//! for byte from the source. Formatting is idempotent.
//!
//! It works in three passes. The parsed body is flattened into a stream of
//! tokens, recovering comments and line breaks from each node's
//! [`Decor`] (plain spaces are dropped: spacing is decided anew). The stream
//! is cut into lines, keeping the author's line breaks. Finally the lines
//! are indented by counting brackets (as terraform's `hclwrite` does),
//! aligned and rendered.

use hcl_edit::expr::{
    Array, BinaryOp, Conditional, Expression, ForExpr, FuncArgs, FuncCall, Object, ObjectKey, ObjectValue,
    ObjectValueAssignment, ObjectValueTerminator, Traversal, TraversalOperator,
};
use hcl_edit::structure::{Attribute, Block, BlockLabel, Body, Structure};
use hcl_edit::{Decor, Decorate, Decorated, Ident, RawString, Span};

/// Formats the HCL source `text` into its canonical layout.
///
/// # Errors
///
/// Returns the parser's error when `text` is not valid HCL.
pub fn format_source(text: &str) -> Result<String, hcl_edit::parser::Error> {
    let source = text.replace("\r\n", "\n");
    let body = hcl_edit::parser::parse_body(&source)?;
    let mut stream = TokenStream::new(&source);
    stream.push_body(&body);
    let lines = remove_extra_blank_lines(split_into_lines(stream.tokens));
    Ok(render(&lines))
}

/// The kinds of bracket, which drive indentation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Bracket {
    Brace,
    Square,
    Paren,
}

/// What a token is, as far as spacing, indentation and alignment care.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum TokenKind {
    /// Identifiers, keywords, numbers, quoted strings and templates.
    Word,
    /// A heredoc, from `<<` to its closing delimiter; it ends its line.
    Heredoc,
    /// An opening bracket that follows a space, such as an array's `[`.
    Open(Bracket),
    /// An opening bracket glued to what precedes it: a call's `(`, an index's `[`.
    GluedOpen(Bracket),
    Close(Bracket),
    Comma,
    /// `.` and `::`, which take no space on either side.
    Joiner,
    Ellipsis,
    /// The `=` of an attribute or an object item: the column aligned in a run.
    Assign,
    /// Binary operators, `?`, `:` and `=>`, which take one space on each side.
    Operator,
    /// Unary `-` and `!`, glued to their operand.
    Prefix,
    /// A `#` or `//` comment; it ends its line.
    LineComment,
    /// A `/* */` comment.
    BlockComment,
    Newline,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Token {
    kind: TokenKind,
    text: String,
}

impl Token {
    fn new(kind: TokenKind, text: impl Into<String>) -> Token {
        Token {
            kind,
            text: text.into(),
        }
    }

    fn is_comment(&self) -> bool {
        matches!(self.kind, TokenKind::LineComment | TokenKind::BlockComment)
    }

    fn is_opening(&self) -> bool {
        matches!(self.kind, TokenKind::Open(_) | TokenKind::GluedOpen(_))
    }

    fn bracket_change(&self) -> isize {
        match self.kind {
            TokenKind::Open(_) | TokenKind::GluedOpen(_) => 1,
            TokenKind::Close(_) => -1,
            _ => 0,
        }
    }
}

/// Flattens a parsed body into tokens, in source order.
struct TokenStream<'source> {
    source: &'source str,
    tokens: Vec<Token>,
}

impl<'source> TokenStream<'source> {
    fn new(source: &'source str) -> TokenStream<'source> {
        TokenStream {
            source,
            tokens: Vec::new(),
        }
    }

    fn push(&mut self, kind: TokenKind, text: impl Into<String>) {
        self.tokens.push(Token::new(kind, text));
    }

    fn push_newline(&mut self) {
        self.push(TokenKind::Newline, "");
    }

    /// Pushes the comments and line breaks held in a piece of decor.
    fn push_trivia(&mut self, raw: Option<&RawString>) {
        if let Some(raw) = raw {
            self.tokens.extend(scan_trivia(raw));
        }
    }

    fn push_prefix(&mut self, decor: &Decor) {
        self.push_trivia(decor.prefix());
    }

    fn push_suffix(&mut self, decor: &Decor) {
        self.push_trivia(decor.suffix());
    }

    /// Pushes a decorated value as one token, with its surrounding trivia.
    fn push_decorated<T>(&mut self, value: &Decorated<T>, kind: TokenKind, text: &str) {
        self.push_prefix(value.decor());
        self.push(kind, text);
        self.push_suffix(value.decor());
    }

    fn push_decorated_word<T>(&mut self, value: &Decorated<T>, text: &str) {
        self.push_decorated(value, TokenKind::Word, text);
    }

    fn push_identifier(&mut self, identifier: &Decorated<Ident>) {
        self.push_decorated_word(identifier, identifier.as_str());
    }

    /// The source text of a parsed node, or `fallback` when it carries no span.
    fn source_text(&self, node: &impl Span, fallback: impl FnOnce() -> String) -> String {
        node.span()
            .and_then(|span| self.source.get(span))
            .map_or_else(fallback, str::to_owned)
    }

    fn push_body(&mut self, body: &Body) {
        for structure in body {
            self.push_structure(structure);
            self.push_newline();
        }
        self.push_suffix(body.decor());
    }

    fn push_structure(&mut self, structure: &Structure) {
        self.push_prefix(structure.decor());
        match structure {
            Structure::Attribute(attribute) => self.push_attribute(attribute),
            Structure::Block(block) => self.push_block(block),
        }
        self.push_suffix(structure.decor());
    }

    fn push_attribute(&mut self, attribute: &Attribute) {
        self.push_identifier(&attribute.key);
        self.push(TokenKind::Assign, "=");
        self.push_expression(&attribute.value);
    }

    fn push_block(&mut self, block: &Block) {
        self.push_identifier(&block.ident);
        for label in &block.labels {
            self.push_block_label(label);
        }
        self.push(TokenKind::Open(Bracket::Brace), "{");
        self.push_block_body(&block.body);
        self.push(TokenKind::Close(Bracket::Brace), "}");
    }

    fn push_block_label(&mut self, label: &BlockLabel) {
        let text = match label {
            BlockLabel::Ident(identifier) => identifier.as_str().to_owned(),
            BlockLabel::String(string) => self.source_text(label, || format!("{:?}", string.value())),
        };
        self.push_prefix(label.decor());
        self.push(TokenKind::Word, text);
        self.push_suffix(label.decor());
    }

    /// Pushes what lies between a block's braces. The body's decor prefix is
    /// the rest of the `{` line, its suffix what precedes the `}`.
    fn push_block_body(&mut self, body: &Body) {
        let decor = body.decor();
        let is_empty = body.is_empty() && !contains_comment(decor.prefix()) && !contains_comment(decor.suffix());
        if is_empty {
            return;
        }
        self.push_prefix(decor);
        if body.prefer_oneline() {
            for structure in body {
                self.push_structure(structure);
            }
            self.push_suffix(decor);
        } else {
            self.push_newline();
            self.push_body(body);
        }
    }

    fn push_expression(&mut self, expression: &Expression) {
        self.push_prefix(expression.decor());
        self.push_expression_content(expression);
        self.push_suffix(expression.decor());
    }

    fn push_expression_content(&mut self, expression: &Expression) {
        match expression {
            Expression::Null(_) => self.push(TokenKind::Word, "null"),
            Expression::Bool(value) => self.push(TokenKind::Word, value.value().to_string()),
            Expression::Number(_) => {
                let text = self.verbatim(expression);
                self.push(TokenKind::Word, text.split_whitespace().collect::<String>());
            }
            Expression::String(_) | Expression::StringTemplate(_) => {
                let text = self.verbatim(expression);
                self.push(TokenKind::Word, text);
            }
            Expression::HeredocTemplate(_) => {
                let text = self.verbatim(expression);
                self.push(TokenKind::Heredoc, text);
            }
            Expression::Variable(variable) => self.push(TokenKind::Word, variable.as_str()),
            Expression::Array(array) => self.push_array(array),
            Expression::Object(object) => self.push_object(object),
            Expression::Parenthesis(parenthesis) => {
                self.push(TokenKind::Open(Bracket::Paren), "(");
                self.push_expression(parenthesis.inner());
                self.push(TokenKind::Close(Bracket::Paren), ")");
            }
            Expression::Conditional(conditional) => self.push_conditional(conditional),
            Expression::FuncCall(call) => self.push_function_call(call),
            Expression::Traversal(traversal) => self.push_traversal(traversal),
            Expression::UnaryOp(operation) => {
                self.push(TokenKind::Prefix, operation.operator.as_str());
                self.push_expression(&operation.expr);
            }
            Expression::BinaryOp(operation) => self.push_binary_operation(operation),
            Expression::ForExpr(for_expression) => self.push_for_expression(for_expression),
        }
    }

    /// The exact source text of an expression, without its decor.
    fn verbatim(&self, expression: &Expression) -> String {
        self.source_text(expression, || {
            let mut undecorated = expression.clone();
            undecorated.decor_mut().clear();
            undecorated.to_string()
        })
    }

    fn push_array(&mut self, array: &Array) {
        self.push(TokenKind::Open(Bracket::Square), "[");
        for (index, item) in array.iter().enumerate() {
            if index > 0 {
                self.push(TokenKind::Comma, ",");
            }
            self.push_expression(item);
        }
        self.push_collection_end(
            array.trailing(),
            array.trailing_comma(),
            array.is_empty(),
            Bracket::Square,
        );
    }

    /// Pushes the end of an array, object or argument list. A trailing
    /// comma is kept only when the closing bracket goes on a line of its
    /// own; an empty collection without comments closes right away.
    fn push_collection_end(&mut self, trailing: &RawString, trailing_comma: bool, is_empty: bool, bracket: Bracket) {
        let trivia = scan_trivia(trailing);
        let closes_on_own_line = trivia.iter().any(|token| token.kind == TokenKind::Newline);
        if trailing_comma && closes_on_own_line {
            self.push(TokenKind::Comma, ",");
        }
        if !is_empty || trivia.iter().any(Token::is_comment) {
            self.tokens.extend(trivia);
        }
        self.push(TokenKind::Close(bracket), closing_text(bracket));
    }

    fn push_object(&mut self, object: &Object) {
        self.push(TokenKind::Open(Bracket::Brace), "{");
        let mut trailing_comma = false;
        for (index, (key, value)) in object.iter().enumerate() {
            let is_last = index + 1 == object.len();
            self.push_object_key(key);
            self.push_object_value(value);
            match value.terminator() {
                ObjectValueTerminator::Comma if is_last => trailing_comma = true,
                ObjectValueTerminator::Comma => self.push(TokenKind::Comma, ","),
                ObjectValueTerminator::Newline => self.push_newline(),
                ObjectValueTerminator::None => {}
            }
        }
        self.push_collection_end(object.trailing(), trailing_comma, object.is_empty(), Bracket::Brace);
    }

    fn push_object_key(&mut self, key: &ObjectKey) {
        match key {
            ObjectKey::Ident(identifier) => self.push_identifier(identifier),
            ObjectKey::Expression(expression) => self.push_expression(expression),
        }
    }

    fn push_object_value(&mut self, value: &ObjectValue) {
        match value.assignment() {
            ObjectValueAssignment::Equals => self.push(TokenKind::Assign, "="),
            ObjectValueAssignment::Colon => self.push(TokenKind::Operator, ":"),
        }
        self.push_expression(value.expr());
    }

    fn push_conditional(&mut self, conditional: &Conditional) {
        self.push_expression(&conditional.cond_expr);
        self.push(TokenKind::Operator, "?");
        self.push_expression(&conditional.true_expr);
        self.push(TokenKind::Operator, ":");
        self.push_expression(&conditional.false_expr);
    }

    fn push_binary_operation(&mut self, operation: &BinaryOp) {
        self.push_expression(&operation.lhs_expr);
        let operator = &operation.operator;
        self.push_decorated(operator, TokenKind::Operator, operator.as_str());
        self.push_expression(&operation.rhs_expr);
    }

    fn push_function_call(&mut self, call: &FuncCall) {
        for component in &call.name.namespace {
            self.push_identifier(component);
            self.push(TokenKind::Joiner, "::");
        }
        self.push_identifier(&call.name.name);
        self.push_function_arguments(&call.args);
    }

    fn push_function_arguments(&mut self, arguments: &FuncArgs) {
        self.push_prefix(arguments.decor());
        self.push(TokenKind::GluedOpen(Bracket::Paren), "(");
        for (index, argument) in arguments.iter().enumerate() {
            if index > 0 {
                self.push(TokenKind::Comma, ",");
            }
            self.push_expression(argument);
        }
        if arguments.expand_final() && !arguments.is_empty() {
            self.push(TokenKind::Ellipsis, "...");
        }
        self.push_collection_end(
            arguments.trailing(),
            arguments.trailing_comma(),
            arguments.is_empty(),
            Bracket::Paren,
        );
        self.push_suffix(arguments.decor());
    }

    fn push_traversal(&mut self, traversal: &Traversal) {
        self.push_expression(&traversal.expr);
        for operator in &traversal.operators {
            self.push_prefix(Decorate::decor(operator));
            self.push_traversal_operator(operator.value());
            self.push_suffix(Decorate::decor(operator));
        }
    }

    fn push_traversal_operator(&mut self, operator: &TraversalOperator) {
        match operator {
            TraversalOperator::GetAttr(identifier) => {
                self.push(TokenKind::Joiner, ".");
                self.push_identifier(identifier);
            }
            TraversalOperator::AttrSplat(splat) => {
                self.push(TokenKind::Joiner, ".");
                self.push_decorated_word(splat, "*");
            }
            TraversalOperator::LegacyIndex(index) => {
                self.push(TokenKind::Joiner, ".");
                self.push_decorated_word(index, &index.value().to_string());
            }
            TraversalOperator::FullSplat(splat) => {
                self.push(TokenKind::GluedOpen(Bracket::Square), "[");
                self.push_decorated_word(splat, "*");
                self.push(TokenKind::Close(Bracket::Square), "]");
            }
            TraversalOperator::Index(expression) => {
                self.push(TokenKind::GluedOpen(Bracket::Square), "[");
                self.push_expression(expression);
                self.push(TokenKind::Close(Bracket::Square), "]");
            }
        }
    }

    fn push_for_expression(&mut self, for_expression: &ForExpr) {
        let bracket = if for_expression.key_expr.is_some() {
            Bracket::Brace
        } else {
            Bracket::Square
        };
        self.push(TokenKind::Open(bracket), opening_text(bracket));
        self.push_for_intro(for_expression);
        if let Some(key) = &for_expression.key_expr {
            self.push_expression(key);
            self.push(TokenKind::Operator, "=>");
        }
        self.push_expression(&for_expression.value_expr);
        if for_expression.grouping {
            self.push(TokenKind::Ellipsis, "...");
        }
        if let Some(condition) = &for_expression.cond {
            self.push_prefix(condition.decor());
            self.push(TokenKind::Word, "if");
            self.push_expression(&condition.expr);
            self.push_suffix(condition.decor());
        }
        self.push(TokenKind::Close(bracket), closing_text(bracket));
    }

    fn push_for_intro(&mut self, for_expression: &ForExpr) {
        let intro = &for_expression.intro;
        self.push_prefix(intro.decor());
        self.push(TokenKind::Word, "for");
        if let Some(key_variable) = &intro.key_var {
            self.push_identifier(key_variable);
            self.push(TokenKind::Comma, ",");
        }
        self.push_identifier(&intro.value_var);
        self.push(TokenKind::Word, "in");
        self.push_expression(&intro.collection_expr);
        self.push(TokenKind::Operator, ":");
        self.push_suffix(intro.decor());
    }
}

fn opening_text(bracket: Bracket) -> &'static str {
    match bracket {
        Bracket::Brace => "{",
        Bracket::Square => "[",
        Bracket::Paren => "(",
    }
}

fn closing_text(bracket: Bracket) -> &'static str {
    match bracket {
        Bracket::Brace => "}",
        Bracket::Square => "]",
        Bracket::Paren => ")",
    }
}

/// Turns decor text (whitespace and comments) into comment and line-break
/// tokens; spaces and tabs are dropped.
fn scan_trivia(raw: &str) -> Vec<Token> {
    let mut tokens = Vec::new();
    let mut rest = raw;
    while let Some(first) = rest.chars().next() {
        let length = if first == '\n' {
            tokens.push(Token::new(TokenKind::Newline, ""));
            1
        } else if first.is_whitespace() {
            first.len_utf8()
        } else if let Some(inside) = rest.strip_prefix("/*") {
            let length = inside.find("*/").map_or(rest.len(), |end| end + 4);
            tokens.push(block_comment(&rest[..length]));
            length
        } else {
            let length = rest.find('\n').unwrap_or(rest.len());
            tokens.push(Token::new(TokenKind::LineComment, rest[..length].trim_end()));
            length
        };
        rest = &rest[length..];
    }
    tokens
}

/// A `/* */` comment, with trailing whitespace removed from its inner lines.
fn block_comment(text: &str) -> Token {
    let lines: Vec<&str> = text.split('\n').map(str::trim_end).collect();
    Token::new(TokenKind::BlockComment, lines.join("\n"))
}

fn contains_comment(raw: Option<&RawString>) -> bool {
    raw.is_some_and(|raw| scan_trivia(raw).iter().any(Token::is_comment))
}

/// Cuts the token stream into lines at each line break. A line comment or a
/// heredoc always ends its line.
fn split_into_lines(tokens: Vec<Token>) -> Vec<Vec<Token>> {
    let mut lines = Vec::new();
    let mut current: Vec<Token> = Vec::new();
    for token in tokens {
        let previous_ends_line = current
            .last()
            .is_some_and(|last| matches!(last.kind, TokenKind::LineComment | TokenKind::Heredoc));
        if token.kind == TokenKind::Newline || previous_ends_line {
            lines.push(std::mem::take(&mut current));
        }
        if token.kind != TokenKind::Newline {
            current.push(token);
        }
    }
    lines.push(current);
    lines
}

/// Keeps at most one blank line in a row, and none at the start or end of
/// the file, right after an opening bracket or right before a closing one.
fn remove_extra_blank_lines(lines: Vec<Vec<Token>>) -> Vec<Vec<Token>> {
    let mut kept: Vec<Vec<Token>> = Vec::new();
    let mut blank_pending = false;
    for line in lines {
        if line.is_empty() {
            blank_pending = !kept.is_empty();
            continue;
        }
        let after_opening = kept.last().is_some_and(|previous| ends_with_opening(previous));
        let before_closing = line
            .first()
            .is_some_and(|first| matches!(first.kind, TokenKind::Close(_)));
        if blank_pending && !after_opening && !before_closing {
            kept.push(Vec::new());
        }
        blank_pending = false;
        kept.push(line);
    }
    kept
}

fn ends_with_opening(line: &[Token]) -> bool {
    line.iter()
        .rev()
        .find(|token| !token.is_comment())
        .is_some_and(Token::is_opening)
}

/// The indentation level of each line, counted from brackets the way
/// `hclwrite` does: a line that opens brackets indents the following lines
/// by one level, however many it opened, until they are closed.
fn indentation_levels(lines: &[Vec<Token>]) -> Vec<usize> {
    let mut open_counts: Vec<isize> = Vec::new();
    lines
        .iter()
        .map(|line| {
            let change: isize = line.iter().map(Token::bracket_change).sum();
            if change > 0 {
                open_counts.push(change);
                open_counts.len() - 1
            } else {
                close_brackets(&mut open_counts, -change);
                open_counts.len()
            }
        })
        .collect()
}

fn close_brackets(open_counts: &mut Vec<isize>, mut closed: isize) {
    while closed > 0 {
        let Some(top) = open_counts.last_mut() else {
            return;
        };
        if closed >= *top {
            closed -= *top;
            open_counts.pop();
        } else {
            *top -= closed;
            closed = 0;
        }
    }
}

/// The index of the `=` that a line aligns on, if any: its first `=`, when
/// everything after it closes every bracket it opens (so a line starting a
/// multi-line object or call is not aligned).
fn alignment_position(line: &[Token]) -> Option<usize> {
    let position = line.iter().position(|token| token.kind == TokenKind::Assign)?;
    let change: isize = line[position..].iter().map(Token::bracket_change).sum();
    (position > 0 && change == 0).then_some(position)
}

/// Whether one space separates two neighbouring tokens of a line.
fn needs_space(previous: &Token, next: &Token) -> bool {
    use TokenKind::{BlockComment, Close, Comma, Ellipsis, GluedOpen, Joiner, LineComment, Open, Prefix};
    match (previous.kind, next.kind) {
        (_, LineComment | BlockComment) | (BlockComment, _) => true,
        (_, GluedOpen(_) | Joiner | Comma | Ellipsis) | (Prefix | Joiner, _) => false,
        (Comma, _) => true,
        (Open(Bracket::Brace), Close(Bracket::Brace)) => false,
        (Open(Bracket::Brace), _) | (_, Close(Bracket::Brace)) => true,
        (Open(_) | GluedOpen(_), _) | (_, Close(_)) => false,
        _ => true,
    }
}

fn join_tokens(tokens: &[Token]) -> String {
    let mut text = String::new();
    let mut previous: Option<&Token> = None;
    for token in tokens {
        if previous.is_some_and(|previous| needs_space(previous, token)) {
            text.push(' ');
        }
        text.push_str(&token.text);
        previous = Some(token);
    }
    text
}

/// A line ready to print: the text up to the aligned `=`, and from it.
struct RenderedLine {
    lead: String,
    assignment: Option<String>,
    spans_lines: bool,
}

impl RenderedLine {
    fn new(line: &[Token], level: usize) -> RenderedLine {
        let indentation = if line.is_empty() {
            String::new()
        } else {
            "  ".repeat(level)
        };
        let spans_lines = line.iter().any(|token| token.text.contains('\n'));
        match alignment_position(line) {
            Some(position) => RenderedLine {
                lead: indentation + &join_tokens(&line[..position]),
                assignment: Some(join_tokens(&line[position..])),
                spans_lines,
            },
            None => RenderedLine {
                lead: indentation + &join_tokens(line),
                assignment: None,
                spans_lines,
            },
        }
    }

    /// The width of the lead's last physical line.
    fn lead_width(&self) -> usize {
        self.lead.rsplit('\n').next().map_or(0, |last| last.chars().count())
    }
}

/// Indents, aligns and joins the lines into the final text.
fn render(lines: &[Vec<Token>]) -> String {
    let levels = indentation_levels(lines);
    let rendered: Vec<RenderedLine> = lines
        .iter()
        .zip(levels)
        .map(|(line, level)| RenderedLine::new(line, level))
        .collect();
    let mut text = String::new();
    for run in alignment_runs(&rendered) {
        let column = run.iter().map(RenderedLine::lead_width).max().unwrap_or(0);
        for line in run {
            text.push_str(&line.lead);
            if let Some(assignment) = &line.assignment {
                text.push_str(&" ".repeat(column.saturating_sub(line.lead_width()) + 1));
                text.push_str(assignment);
            }
            text.push('\n');
        }
    }
    text
}

/// Groups lines into runs whose `=` are aligned together: consecutive lines
/// with an aligned `=`, a run ending after a line that spans several lines
/// (a heredoc, a multi-line comment). Every other line is a run of its own.
fn alignment_runs(lines: &[RenderedLine]) -> Vec<&[RenderedLine]> {
    let mut runs = Vec::new();
    let mut start = 0;
    for (index, line) in lines.iter().enumerate() {
        let next_joins = lines
            .get(index + 1)
            .is_some_and(|next| line.assignment.is_some() && next.assignment.is_some() && !line.spans_lines);
        if !next_joins {
            runs.push(&lines[start..=index]);
            start = index + 1;
        }
    }
    runs
}

#[cfg(test)]
mod tests {
    use super::format_source;

    /// Formats `input`, checking that formatting the result changes nothing.
    fn format(input: &str) -> String {
        let formatted = format_source(input).expect("input should parse");
        let again = format_source(&formatted).expect("formatted output should parse");
        assert_eq!(again, formatted, "formatting is not idempotent for:\n{input}");
        formatted
    }

    const REALISTIC: &str = r#"# keys
resource "local_key" "main" {
description="main key"
  deletion_window_in_days = 7 # short for tests
  rotation {
every = "90d"
      grace="7d"
  }
}


resource "local_secret"   "db" {
  name = "db-password"
  value = generate({ length = 32, special = true })
  key = local_key.main.id
}
output "key_id" {
  value = local_key.main.id
}
"#;

    const REALISTIC_FORMATTED: &str = r#"# keys
resource "local_key" "main" {
  description             = "main key"
  deletion_window_in_days = 7 # short for tests
  rotation {
    every = "90d"
    grace = "7d"
  }
}

resource "local_secret" "db" {
  name  = "db-password"
  value = generate({ length = 32, special = true })
  key   = local_key.main.id
}
output "key_id" {
  value = local_key.main.id
}
"#;

    const ALIGNMENT: &str =
        "a=1\nlonger_name = 2\n\nafter_blank = 3\nb = 4\n# note\nafter_comment = 5\nblock {}\nc = 6\n";

    const NESTED: &str = "outer \"x\" {\n        middle {\ninner {\n                value = 1\n      }\n  }\n}\n";

    const COMMENTS: &str = r#"# hash above
// slashes above
/* block above */
resource "local_key" "main" { # after brace
  # inside, above
  a = 1 # hash inline
  bb = 2 // slashes inline
  c = 3 /* block inline */
    /* block
       on two lines */
  d = /* before value */ 4
  # before closing brace
}
# end of file"#;

    const BLANK_LINES: &str = "\n\n\na = 1\n\n\n\nb = 2\nblock {\n\n\n  c = 3\n\n\n  d = 4\n\n}\n\n\n";

    const HEREDOC: &str = "resource \"x\" \"y\" {\n      script = <<EOT\n  keep   this   \n\ttabbed\n\nEOT\n        indented = <<-EOT\n      a\n    b   \n    EOT\n}\n";

    const EXPRESSIONS: &str = r#"locals {
  list = [1,2,3,]
  object = {a=1,b="x"}
  call = merge(var.a,var.b)
  negative = -1
  difference = 3 - - 2
  negation = !var.flag
  condition = var.x==1?"a":"b"
  index = var.list[0].name
  splat = var.list[*].id
  for_list = [for s in var.list: upper(s) if s!=""]
  for_map = {for k,v in var.map: k=>v...}
  group = (1+2)*3
  template = "hello ${var.name}!"
  escapes = "\u0041\t"
  namespaced = provider::foo::bar(1)
  expanded = concat(var.lists...)
  empty_list = [
  ]
  empty_object = {}
}
"#;

    const MULTI_LINE_EXPRESSIONS: &str = r#"locals {
  list = [
      "a", # first
    "b",
  # own line
    "c",
  ]
  object = {
    x = 1
      longer = 2 // trailing
  }
  call = merge(var.a, {
  k = "v"
  })
}
"#;

    const EMPTY_BLOCKS: &str = "empty \"x\" {\n}\nspaced \"y\"   {   }\nkept {\n  # only a comment\n}\n";

    const ALL_INPUTS: [&str; 11] = [
        REALISTIC,
        REALISTIC_FORMATTED,
        ALIGNMENT,
        NESTED,
        COMMENTS,
        BLANK_LINES,
        HEREDOC,
        EXPRESSIONS,
        MULTI_LINE_EXPRESSIONS,
        EMPTY_BLOCKS,
        "",
    ];

    #[test]
    fn formats_the_realistic_example() {
        assert_eq!(format(REALISTIC), REALISTIC_FORMATTED);
    }

    #[test]
    fn leaves_a_formatted_file_unchanged() {
        assert_eq!(format(REALISTIC_FORMATTED), REALISTIC_FORMATTED);
    }

    #[test]
    fn aligns_equals_within_runs_only() {
        let expected = "a           = 1\nlonger_name = 2\n\nafter_blank = 3\nb           = 4\n# note\nafter_comment = 5\nblock {}\nc = 6\n";
        assert_eq!(format(ALIGNMENT), expected);
    }

    #[test]
    fn reindents_nested_blocks() {
        let expected = "outer \"x\" {\n  middle {\n    inner {\n      value = 1\n    }\n  }\n}\n";
        assert_eq!(format(NESTED), expected);
    }

    #[test]
    fn keeps_every_kind_of_comment_in_place() {
        let expected = r#"# hash above
// slashes above
/* block above */
resource "local_key" "main" { # after brace
  # inside, above
  a  = 1 # hash inline
  bb = 2 // slashes inline
  c  = 3 /* block inline */
  /* block
       on two lines */
  d = /* before value */ 4
  # before closing brace
}
# end of file
"#;
        assert_eq!(format(COMMENTS), expected);
    }

    #[test]
    fn collapses_blank_lines() {
        let expected = "a = 1\n\nb = 2\nblock {\n  c = 3\n\n  d = 4\n}\n";
        assert_eq!(format(BLANK_LINES), expected);
    }

    #[test]
    fn leaves_heredoc_bodies_untouched() {
        let formatted = format(HEREDOC);
        assert!(formatted.contains("  script = <<EOT\n  keep   this   \n\ttabbed\n\nEOT\n"));
        assert!(formatted.contains("  indented = <<-EOT\n      a\n    b   \n    EOT\n}\n"));
    }

    #[test]
    fn normalises_spacing_inside_single_line_expressions() {
        let expected = r#"locals {
  list         = [1, 2, 3]
  object       = { a = 1, b = "x" }
  call         = merge(var.a, var.b)
  negative     = -1
  difference   = 3 - -2
  negation     = !var.flag
  condition    = var.x == 1 ? "a" : "b"
  index        = var.list[0].name
  splat        = var.list[*].id
  for_list     = [for s in var.list : upper(s) if s != ""]
  for_map      = { for k, v in var.map : k => v... }
  group        = (1 + 2) * 3
  template     = "hello ${var.name}!"
  escapes      = "\u0041\t"
  namespaced   = provider::foo::bar(1)
  expanded     = concat(var.lists...)
  empty_list   = []
  empty_object = {}
}
"#;
        assert_eq!(format(EXPRESSIONS), expected);
    }

    #[test]
    fn reindents_multi_line_expressions() {
        let expected = r#"locals {
  list = [
    "a", # first
    "b",
    # own line
    "c",
  ]
  object = {
    x      = 1
    longer = 2 // trailing
  }
  call = merge(var.a, {
    k = "v"
  })
}
"#;
        assert_eq!(format(MULTI_LINE_EXPRESSIONS), expected);
    }

    #[test]
    fn writes_empty_blocks_on_one_line() {
        let expected = "empty \"x\" {}\nspaced \"y\" {}\nkept {\n  # only a comment\n}\n";
        assert_eq!(format(EMPTY_BLOCKS), expected);
    }

    #[test]
    fn normalises_line_endings() {
        assert_eq!(format("a {\r\n  b = 1\r\n}\r\n"), "a {\n  b = 1\n}\n");
    }

    #[test]
    fn ends_with_exactly_one_newline() {
        assert_eq!(format("a = 1"), "a = 1\n");
        assert_eq!(format("a = 1\n\n\n"), "a = 1\n");
        assert_eq!(format("# only\n// comments"), "# only\n// comments\n");
        assert_eq!(format("\n\n"), "");
    }

    #[test]
    fn formatting_is_idempotent() {
        for input in ALL_INPUTS {
            let once = format(input);
            assert_eq!(format(&once), once, "input:\n{input}");
        }
    }

    #[test]
    fn returns_parse_errors() {
        assert!(format_source("a = \n").is_err());
        assert!(format_source("block {\n").is_err());
        assert!(format_source("a = 1\na = 2\n").is_err());
    }
}
