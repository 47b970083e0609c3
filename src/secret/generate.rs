//! Generated passwords with the semantics of Terraform's `random_password`:
//! character classes, per-class minimums, unbiased selection from the operating
//! system's random source and a Fisher-Yates shuffle.

use zeroize::Zeroizing;

use super::sensitive::SensitiveString;
use crate::config::value::GenerateSpec;

const UPPER: &str = "ABCDEFGHIJKLMNOPQRSTUVWXYZ";
const LOWER: &str = "abcdefghijklmnopqrstuvwxyz";
const NUMERIC: &str = "0123456789";
const DEFAULT_SPECIAL: &str = "!@#$%&*()-_=+[]{}<>:?";

/// The longest secret [`generate`] makes, in characters.
pub const MAX_GENERATED_LENGTH: u32 = 65_536;

/// How many random bytes are read from the operating system at once.
const RANDOM_BATCH: usize = 256;

/// Why a `generate({...})` specification cannot produce a secret.
#[derive(Debug, thiserror::Error)]
pub enum GenerateError {
    #[error("a generated secret needs a length of at least 1; set `length` to 1 or more")]
    ZeroLength,

    #[error(
        "`length` is {length}, above the limit of {limit} characters; set a smaller `length`",
        limit = MAX_GENERATED_LENGTH
    )]
    TooLong { length: u32 },

    #[error(
        "no character class is enabled; set at least one of `upper`, `lower`, \
         `numeric` or `special` to true"
    )]
    NoClassEnabled,

    #[error(
        "the minimums add up to {total} characters, more than `length` ({length}); \
         raise `length` or lower `min_upper`, `min_lower`, `min_numeric` or `min_special`"
    )]
    MinimumsExceedLength { total: u64, length: u32 },

    #[error(
        "`min_{class} = {minimum}` asks for {class} characters but `{class}` is false; \
         set `{class} = true` or `min_{class} = 0`"
    )]
    MinimumForDisabledClass { class: &'static str, minimum: u32 },

    #[error(
        "`special` is true but `override_special` is empty; give `override_special` \
         some characters or set `special = false`"
    )]
    EmptySpecialSet,

    #[error(
        "could not read the operating system's random source ({0}); \
         check that the system's random device is available and try again"
    )]
    Random(getrandom::Error),
}

/// A character class: its name, whether it is on, its minimum and its characters.
struct CharacterClass {
    name: &'static str,
    enabled: bool,
    minimum: u32,
    characters: Vec<char>,
}

/// Generates a secret as Terraform's `random_password` does: `min_*` characters
/// from each class first, the rest from every enabled class, then a shuffle.
pub fn generate(spec: &GenerateSpec) -> Result<SensitiveString, GenerateError> {
    let classes = validate(spec)?;
    let all_enabled: Vec<char> = classes
        .iter()
        .filter(|class| class.enabled)
        .flat_map(|class| class.characters.iter().copied())
        .collect();

    let length = spec.length as usize;
    let mut random = RandomSource::new();
    let mut characters: Zeroizing<Vec<char>> = Zeroizing::new(Vec::with_capacity(length));
    for class in &classes {
        for _ in 0..class.minimum {
            characters.push(random.choose(&class.characters)?);
        }
    }
    while characters.len() < length {
        characters.push(random.choose(&all_enabled)?);
    }
    for index in (1..characters.len()).rev() {
        let other = random.below(index + 1)?;
        characters.swap(index, other);
    }
    Ok(SensitiveString::new(characters.iter().collect::<String>()))
}

/// Checks the specification and returns its character classes.
/// Checks a spec without generating anything (the evaluator reports problems at plan time).
pub fn validate_spec(spec: &GenerateSpec) -> Result<(), GenerateError> {
    validate(spec).map(|_| ())
}

fn validate(spec: &GenerateSpec) -> Result<Vec<CharacterClass>, GenerateError> {
    if spec.length == 0 {
        return Err(GenerateError::ZeroLength);
    }
    if spec.length > MAX_GENERATED_LENGTH {
        return Err(GenerateError::TooLong { length: spec.length });
    }
    let special = spec.override_special.as_deref().unwrap_or(DEFAULT_SPECIAL);
    let classes = vec![
        class("upper", spec.upper, spec.min_upper, UPPER),
        class("lower", spec.lower, spec.min_lower, LOWER),
        class("numeric", spec.numeric, spec.min_numeric, NUMERIC),
        class("special", spec.special, spec.min_special, special),
    ];
    if !classes.iter().any(|class| class.enabled) {
        return Err(GenerateError::NoClassEnabled);
    }
    for class in &classes {
        if !class.enabled && class.minimum > 0 {
            return Err(GenerateError::MinimumForDisabledClass {
                class: class.name,
                minimum: class.minimum,
            });
        }
        if class.enabled && class.characters.is_empty() {
            return Err(GenerateError::EmptySpecialSet);
        }
    }
    let total: u64 = classes.iter().map(|class| u64::from(class.minimum)).sum();
    if total > u64::from(spec.length) {
        return Err(GenerateError::MinimumsExceedLength {
            total,
            length: spec.length,
        });
    }
    Ok(classes)
}

/// A character class with its characters deduplicated, so each is equally likely.
fn class(name: &'static str, enabled: bool, minimum: u32, characters: &str) -> CharacterClass {
    let mut unique: Vec<char> = Vec::new();
    for character in characters.chars() {
        if !unique.contains(&character) {
            unique.push(character);
        }
    }
    CharacterClass {
        name,
        enabled,
        minimum,
        characters: unique,
    }
}

/// Random numbers from the operating system, read in batches.
struct RandomSource {
    batch: Zeroizing<[u8; RANDOM_BATCH]>,
    position: usize,
}

impl RandomSource {
    fn new() -> Self {
        RandomSource {
            batch: Zeroizing::new([0; RANDOM_BATCH]),
            position: RANDOM_BATCH,
        }
    }

    fn next_u32(&mut self) -> Result<u32, GenerateError> {
        if self.position + 4 > RANDOM_BATCH {
            getrandom::getrandom(self.batch.as_mut_slice()).map_err(GenerateError::Random)?;
            self.position = 0;
        }
        let mut bytes = [0; 4];
        bytes.copy_from_slice(&self.batch[self.position..self.position + 4]);
        self.position += 4;
        Ok(u32::from_le_bytes(bytes))
    }

    /// A uniform number in `0..bound`, by rejection sampling (no modulo bias).
    /// `bound` is at least 1 and fits in a `u32`.
    fn below(&mut self, bound: usize) -> Result<usize, GenerateError> {
        let bound = u32::try_from(bound).unwrap_or(u32::MAX).max(1);
        // The largest multiple of `bound` that fits: draws at or above it are redrawn.
        let zone = u32::MAX - (u32::MAX % bound);
        loop {
            let draw = self.next_u32()?;
            if draw < zone {
                return Ok((draw % bound) as usize);
            }
        }
    }

    /// A uniformly chosen character of a non-empty set.
    fn choose(&mut self, characters: &[char]) -> Result<char, GenerateError> {
        let index = self.below(characters.len())?;
        Ok(characters[index])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(length: u32) -> GenerateSpec {
        GenerateSpec {
            length,
            ..GenerateSpec::default()
        }
    }

    fn count(text: &str, set: &str) -> usize {
        text.chars().filter(|character| set.contains(*character)).count()
    }

    #[test]
    fn makes_the_requested_length() {
        for length in [1, 2, 16, 32, 100, 1000] {
            let secret = generate(&spec(length)).unwrap();
            assert_eq!(secret.expose().chars().count(), length as usize);
        }
    }

    #[test]
    fn honours_minimums_over_many_runs() {
        let settings = GenerateSpec {
            length: 12,
            min_upper: 3,
            min_lower: 2,
            min_numeric: 4,
            min_special: 3,
            ..GenerateSpec::default()
        };
        for _ in 0..500 {
            let secret = generate(&settings).unwrap();
            let text = secret.expose();
            assert_eq!(count(text, UPPER), 3);
            assert_eq!(count(text, LOWER), 2);
            assert_eq!(count(text, NUMERIC), 4);
            assert_eq!(count(text, DEFAULT_SPECIAL), 3);
        }
        let loose = GenerateSpec {
            length: 8,
            min_numeric: 2,
            min_special: 1,
            ..GenerateSpec::default()
        };
        for _ in 0..500 {
            let secret = generate(&loose).unwrap();
            assert!(count(secret.expose(), NUMERIC) >= 2);
            assert!(count(secret.expose(), DEFAULT_SPECIAL) >= 1);
        }
    }

    #[test]
    fn uses_only_allowed_characters() {
        let numeric_only = GenerateSpec {
            length: 200,
            upper: false,
            lower: false,
            special: false,
            ..GenerateSpec::default()
        };
        let secret = generate(&numeric_only).unwrap();
        assert!(secret.expose().chars().all(|character| character.is_ascii_digit()));

        let custom_special = GenerateSpec {
            length: 300,
            override_special: Some("-_é".to_string()),
            min_special: 5,
            ..GenerateSpec::default()
        };
        let allowed = format!("{UPPER}{LOWER}{NUMERIC}-_é");
        let secret = generate(&custom_special).unwrap();
        assert!(secret.expose().chars().all(|character| allowed.contains(character)));
        assert!(count(secret.expose(), "-_é") >= 5);

        let default = generate(&spec(2000)).unwrap();
        let allowed = format!("{UPPER}{LOWER}{NUMERIC}{DEFAULT_SPECIAL}");
        assert!(default.expose().chars().all(|character| allowed.contains(character)));
        for set in [UPPER, LOWER, NUMERIC, DEFAULT_SPECIAL] {
            assert!(count(default.expose(), set) > 0);
        }
    }

    #[test]
    fn two_calls_differ() {
        let first = generate(&spec(32)).unwrap();
        let second = generate(&spec(32)).unwrap();
        assert_ne!(first, second);
    }

    #[test]
    fn selection_is_roughly_uniform() {
        let digits = GenerateSpec {
            length: 20_000,
            upper: false,
            lower: false,
            special: false,
            ..GenerateSpec::default()
        };
        let secret = generate(&digits).unwrap();
        for digit in NUMERIC.chars() {
            let seen = secret.expose().chars().filter(|character| *character == digit).count();
            // Expected 2000 each; 1700..2300 is more than six standard deviations.
            assert!((1700..2300).contains(&seen), "{digit}: {seen}");
        }
    }

    #[test]
    fn rejects_invalid_specifications() {
        assert!(matches!(generate(&spec(0)), Err(GenerateError::ZeroLength)));
        assert!(matches!(
            generate(&spec(MAX_GENERATED_LENGTH + 1)),
            Err(GenerateError::TooLong { .. })
        ));
        let nothing = GenerateSpec {
            upper: false,
            lower: false,
            numeric: false,
            special: false,
            ..GenerateSpec::default()
        };
        assert!(matches!(generate(&nothing), Err(GenerateError::NoClassEnabled)));
        let too_many = GenerateSpec {
            length: 4,
            min_upper: 2,
            min_lower: 3,
            ..GenerateSpec::default()
        };
        assert!(matches!(
            generate(&too_many),
            Err(GenerateError::MinimumsExceedLength { total: 5, length: 4 })
        ));
        let huge = GenerateSpec {
            length: 10,
            min_upper: u32::MAX,
            min_lower: u32::MAX,
            ..GenerateSpec::default()
        };
        assert!(matches!(
            generate(&huge),
            Err(GenerateError::MinimumsExceedLength { .. })
        ));
        let disabled = GenerateSpec {
            numeric: false,
            min_numeric: 1,
            ..GenerateSpec::default()
        };
        let error = generate(&disabled).unwrap_err();
        assert!(matches!(
            error,
            GenerateError::MinimumForDisabledClass {
                class: "numeric",
                minimum: 1
            }
        ));
        assert!(error.to_string().contains("min_numeric"));
        let empty_special = GenerateSpec {
            override_special: Some(String::new()),
            ..GenerateSpec::default()
        };
        assert!(matches!(generate(&empty_special), Err(GenerateError::EmptySpecialSet)));
        let empty_but_off = GenerateSpec {
            special: false,
            override_special: Some(String::new()),
            ..GenerateSpec::default()
        };
        assert!(generate(&empty_but_off).is_ok());
    }

    #[test]
    fn below_stays_in_range() {
        let mut random = RandomSource::new();
        for bound in 1..100 {
            for _ in 0..20 {
                assert!(random.below(bound).unwrap() < bound);
            }
        }
    }
}
