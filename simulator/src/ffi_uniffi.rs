//! What uniffi needs beyond the derives on the simulator's records (feature `uniffi`, enabled
//! only by the Kotlin binding): a fault kind crosses as its CLI name (`429`, `latency`), and the
//! credentials print without their secrets.

use crate::FaultKind;
use crate::state::SimCredentials;

uniffi::custom_type!(FaultKind, String, {
    lower: |kind| kind.name().to_owned(),
    try_lift: |name| FaultKind::parse(&name)
        .ok_or_else(|| uniffi::deps::anyhow::anyhow!("unknown fault kind {name:?}")),
});

/// `toString()` in Kotlin: the secret and the passwords masked.
impl std::fmt::Display for SimCredentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "SimCredentials(clientId={}, clientSecret=***, username={}, password=***, enterpriseUsername={}, enterprisePassword=***)",
            self.client_id, self.username, self.enterprise_username
        )
    }
}
