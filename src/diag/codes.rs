//! The stable diagnostic codes, grouped by area: `KF1xxx` configuration,
//! `KF2xxx` graph, `KF3xxx` state, `KF4xxx` provider, `KF5xxx` plan and apply,
//! `KF6xxx` secrets and keys. **A code, once released, keeps its meaning.**

use std::fmt;

macro_rules! codes {
    ($($name:ident = $number:literal: $summary:literal,)*) => {
        /// A stable diagnostic code.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum Code { $($name,)* }

        impl Code {
            /// The number behind `KF`.
            pub fn number(self) -> u16 {
                match self { $(Code::$name => $number,)* }
            }

            /// One line on what the code means (for docs and `--help`).
            pub fn summary(self) -> &'static str {
                match self { $(Code::$name => $summary,)* }
            }

            /// Every code, in order.
            pub fn all() -> &'static [Code] {
                &[$(Code::$name,)*]
            }
        }
    };
}

codes! {
    Syntax = 1001: "the file is not valid HCL",
    UnknownBlock = 1002: "a block type keyform does not know",
    UnknownAttribute = 1003: "an attribute the block does not take",
    HardcodedSecret = 1004: "a secret given as a literal instead of a value source",
    MissingAttribute = 1005: "a required attribute is missing",
    TypeMismatch = 1006: "a value of the wrong type",
    UndeclaredReference = 1007: "a reference to something not declared",
    DuplicateDeclaration = 1008: "two declarations with the same address",
    VariableValidation = 1009: "a variable's validation condition failed",
    FunctionCall = 1010: "a function called with wrong arguments, or failing",
    UnknownFunction = 1011: "a function keyform does not know",
    InvalidExpression = 1012: "an expression that cannot be evaluated",
    MissingVariable = 1013: "a variable without a value",
    InvalidDuration = 1014: "a duration keyform cannot read",
    InvalidRotation = 1015: "a rotation block that contradicts itself",
    UnknownResourceType = 1016: "a resource type no provider offers",
    InvalidModule = 1017: "a module call keyform cannot load",
    InvalidVariableFile = 1018: "a variable file keyform cannot read",
    InvalidMetaArgument = 1019: "a misused count, for_each, depends_on, provider or lifecycle",
    UnknownProvider = 1020: "a provider keyform does not know",
    InvalidValueSource = 1021: "a value source that cannot be read",
    InvalidAddress = 1022: "an address keyform cannot read",
    InvalidArgument = 1023: "an argument the provider can never accept (a malformed key policy)",
    Cycle = 2001: "the configuration's references form a cycle",
    StateSyntax = 3001: "the state file is not valid",
    StateLocked = 3002: "the state is locked by another run",
    StateVersion = 3003: "the state was written by a newer keyform",
    StateIo = 3004: "the state could not be read or written",
    StateAddress = 3005: "a state command names an address not in state",
    StalePlan = 3006: "a saved plan no longer matches the state or the sources",
    ProviderError = 4001: "a provider call failed",
    ProviderConfig = 4002: "a provider configuration is invalid",
    ProviderContract = 4003: "a provider returned something keyform cannot trust",
    PreventDestroy = 5001: "a plan would destroy a resource with prevent_destroy",
    ApplyAborted = 5002: "the apply was not approved",
    PlanFile = 5003: "a saved plan file cannot be read",
    CheckFailed = 5004: "a check block's assertion is false",
    ChangeRefused = 5005: "a change the provider can never make (a setting fixed at creation, a protection that stays on)",
    MasterKey = 6001: "the local master key is missing or wrong",
    FingerprintKey = 6002: "the fingerprint key is missing or unreadable",
    SecretUnavailable = 6003: "a secret's value cannot be read",
}

impl fmt::Display for Code {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(formatter, "KF{}", self.number())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_unique() {
        let mut numbers: Vec<u16> = Code::all().iter().map(|code| code.number()).collect();
        numbers.sort_unstable();
        numbers.dedup();
        assert_eq!(numbers.len(), Code::all().len());
    }
}
