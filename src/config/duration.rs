//! The one duration syntax: seconds as a number, `N` with `s`, `m`, `h` or
//! `d`, or ISO 8601 (`P90D`, `PT1H`, `P1DT12H`).

/// Parses a duration into whole seconds.
pub fn parse_duration(text: &str) -> Result<u64, String> {
    let text = text.trim();
    if text.is_empty() {
        return Err("a duration cannot be empty".to_string());
    }
    if let Ok(seconds) = text.parse::<u64>() {
        return Ok(seconds);
    }
    if let Some(rest) = text.strip_prefix('P').or_else(|| text.strip_prefix('p')) {
        return parse_iso8601(rest).ok_or_else(|| help_text(text));
    }
    let split = text
        .find(|character: char| !character.is_ascii_digit())
        .ok_or_else(|| help_text(text))?;
    let (number, unit) = text.split_at(split);
    let number: u64 = number.parse().map_err(|_| help_text(text))?;
    let multiplier = unit_seconds(unit).ok_or_else(|| help_text(text))?;
    number
        .checked_mul(multiplier)
        .ok_or_else(|| format!("`{text}` is too long a duration"))
}

fn unit_seconds(unit: &str) -> Option<u64> {
    match unit {
        "s" => Some(1),
        "m" => Some(60),
        "h" => Some(3_600),
        "d" => Some(86_400),
        _ => None,
    }
}

fn parse_iso8601(rest: &str) -> Option<u64> {
    let (date, time) = match rest.split_once(['T', 't']) {
        Some((date, time)) => (date, Some(time)),
        None => (rest, None),
    };
    let mut total: u64 = 0;
    let mut any = false;
    for (part, units) in [(date, "WD"), (time.unwrap_or(""), "HMS")] {
        let mut number = String::new();
        for character in part.chars() {
            if character.is_ascii_digit() {
                number.push(character);
                continue;
            }
            let upper = character.to_ascii_uppercase();
            if !units.contains(upper) || number.is_empty() {
                return None;
            }
            let value: u64 = number.parse().ok()?;
            let seconds = match (units, upper) {
                ("WD", 'W') => 604_800,
                ("WD", 'D') => 86_400,
                (_, 'H') => 3_600,
                (_, 'M') => 60,
                _ => 1,
            };
            total = total.checked_add(value.checked_mul(seconds)?)?;
            number.clear();
            any = true;
        }
        if !number.is_empty() {
            return None;
        }
    }
    if time == Some("") {
        return None;
    }
    any.then_some(total)
}

fn help_text(text: &str) -> String {
    format!(
        "`{text}` is not a duration: use seconds (3600), a number with s, m, h or d (\"90d\"), or ISO 8601 (\"P90D\", \"PT1H\")"
    )
}

/// Formats seconds the short way a plan shows them (`90d`, `1h`, `90s`).
pub fn format_duration(seconds: u64) -> String {
    for (unit, size) in [("d", 86_400), ("h", 3_600), ("m", 60)] {
        if seconds >= size && seconds.is_multiple_of(size) {
            return format!("{}{unit}", seconds / size);
        }
    }
    format!("{seconds}s")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_every_form() {
        assert_eq!(parse_duration("3600"), Ok(3600));
        assert_eq!(parse_duration("90d"), Ok(90 * 86_400));
        assert_eq!(parse_duration("1h"), Ok(3600));
        assert_eq!(parse_duration("P90D"), Ok(90 * 86_400));
        assert_eq!(parse_duration("PT1H"), Ok(3600));
        assert_eq!(parse_duration("P1DT12H"), Ok(86_400 + 12 * 3600));
        assert!(parse_duration("ten days").is_err());
        assert!(parse_duration("P").is_err());
        assert!(parse_duration("PT").is_err());
        assert!(parse_duration("5y").is_err());
    }

    #[test]
    fn formats_short() {
        assert_eq!(format_duration(90 * 86_400), "90d");
        assert_eq!(format_duration(3600), "1h");
        assert_eq!(format_duration(61), "61s");
    }
}
