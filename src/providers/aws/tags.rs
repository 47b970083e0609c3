//! Tags on KMS keys: reading them, changing only those that differ, and the
//! internal `keyform:create-token` tag that makes a create idempotent. That
//! tag is never reported as one of the key's `tags`, never removed by an
//! update, and refused in a configuration.

use super::client::provider_error;
use crate::provider::ProviderError;
use aws_sdk_kms::Client;
use aws_sdk_kms::types::Tag;
use std::collections::BTreeMap;

/// The tag that carries the journal's create token.
pub const TOKEN_TAG: &str = "keyform:create-token";

/// Every tag of a key, the token tag included.
pub async fn list(client: &Client, key_id: &str) -> Result<BTreeMap<String, String>, ProviderError> {
    let mut pages = client.list_resource_tags().key_id(key_id).into_paginator().send();
    let mut tags = BTreeMap::new();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|error| provider_error(error, "kms:ListResourceTags", key_id))?;
        for tag in page.tags() {
            tags.insert(tag.tag_key().to_string(), tag.tag_value().to_string());
        }
    }
    Ok(tags)
}

/// The tags a user sees: all but the token tag.
pub fn visible(tags: &BTreeMap<String, String>) -> serde_json::Map<String, serde_json::Value> {
    tags.iter()
        .filter(|(key, _)| key.as_str() != TOKEN_TAG)
        .map(|(key, value)| (key.clone(), serde_json::Value::String(value.clone())))
        .collect()
}

/// Builds the SDK's tag list.
pub fn to_sdk(tags: &BTreeMap<String, String>) -> Result<Vec<Tag>, ProviderError> {
    tags.iter()
        .map(|(key, value)| {
            Tag::builder()
                .tag_key(key)
                .tag_value(value)
                .build()
                .map_err(|error| ProviderError::new("InvalidTag", format!("tag `{key}`: {error}")))
        })
        .collect()
}

/// Refuses the reserved token tag in a configuration.
pub fn check_configured(tags: &BTreeMap<String, String>) -> Result<(), ProviderError> {
    if tags.contains_key(TOKEN_TAG) {
        return Err(ProviderError::new(
            "ReservedTag",
            format!("the tag `{TOKEN_TAG}` is reserved: keyform uses it to find a key after an interrupted create"),
        )
        .with_help(format!("remove `{TOKEN_TAG}` from tags")));
    }
    Ok(())
}

/// What to tag and untag to go from `live` to `desired`; the token tag is left alone.
pub fn difference(
    live: &BTreeMap<String, String>,
    desired: &BTreeMap<String, String>,
) -> (BTreeMap<String, String>, Vec<String>) {
    let to_tag = desired
        .iter()
        .filter(|(key, value)| live.get(*key) != Some(*value))
        .map(|(key, value)| (key.clone(), value.clone()))
        .collect();
    let to_untag = live
        .keys()
        .filter(|key| key.as_str() != TOKEN_TAG && !desired.contains_key(*key))
        .cloned()
        .collect();
    (to_tag, to_untag)
}

/// Tags and untags a key so that its visible tags are `desired`.
pub async fn apply(client: &Client, key_id: &str, desired: &BTreeMap<String, String>) -> Result<(), ProviderError> {
    let live = list(client, key_id).await?;
    let (to_tag, to_untag) = difference(&live, desired);
    if !to_tag.is_empty() {
        client
            .tag_resource()
            .key_id(key_id)
            .set_tags(Some(to_sdk(&to_tag)?))
            .send()
            .await
            .map_err(|error| provider_error(error, "kms:TagResource", key_id))?;
    }
    if !to_untag.is_empty() {
        client
            .untag_resource()
            .key_id(key_id)
            .set_tag_keys(Some(to_untag))
            .send()
            .await
            .map_err(|error| provider_error(error, "kms:UntagResource", key_id))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::{TOKEN_TAG, difference, visible};
    use std::collections::BTreeMap;

    fn map(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(key, value)| (key.to_string(), value.to_string()))
            .collect()
    }

    #[test]
    fn only_differences_are_sent_and_the_token_stays() {
        let live = map(&[(TOKEN_TAG, "t"), ("team", "payments"), ("old", "x"), ("same", "1")]);
        let desired = map(&[("team", "billing"), ("same", "1"), ("new", "y")]);
        let (to_tag, to_untag) = difference(&live, &desired);
        assert_eq!(to_tag, map(&[("team", "billing"), ("new", "y")]));
        assert_eq!(to_untag, vec!["old".to_string()]);
    }

    #[test]
    fn the_token_tag_is_hidden() {
        let shown = visible(&map(&[(TOKEN_TAG, "t"), ("team", "payments")]));
        assert_eq!(shown.len(), 1);
        assert_eq!(shown.get("team"), Some(&serde_json::Value::String("payments".into())));
    }
}
