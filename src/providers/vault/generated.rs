//! The apply of a type whose objects Vault generates and no argument changes
//! in place (an AppRole secret_id, a PKI root): a create generates one, a
//! delete removes it, and any other request only reads it again by id, since
//! every argument forces a new object.

use crate::provider::{ApplyAction, ApplyRequest, LiveObject, ProviderError};

/// Carries out `request` with the type's `create` (given the journal's token), `delete` and `read` (given the
/// id). `what` names an object in messages ("the secret_id", "the PKI root").
pub async fn apply(
    request: &ApplyRequest,
    what: &str,
    create: impl AsyncFnOnce(&str) -> Result<LiveObject, ProviderError>,
    delete: impl AsyncFnOnce(&str) -> Result<(), ProviderError>,
    read: impl AsyncFnOnce(&str) -> Result<Option<LiveObject>, ProviderError>,
) -> Result<Option<LiveObject>, ProviderError> {
    match (&request.action, &request.id) {
        (ApplyAction::Create { token }, _) => create(token).await.map(Some),
        (ApplyAction::Delete { .. }, Some(id)) => delete(id).await.map(|()| None),
        (_, Some(id)) => read(id).await?.map(Some).ok_or_else(|| {
            ProviderError::new(
                "NotFound",
                format!("{what} `{id}` is gone; plan again to generate a new one"),
            )
        }),
        (_, None) => Err(ProviderError::new(
            "InvalidRequest",
            format!("{what} is changed only by its id; every argument forces a new one"),
        )),
    }
}
