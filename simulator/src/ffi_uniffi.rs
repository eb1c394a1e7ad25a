//! What uniffi needs beyond the derives on the simulator's records (feature `uniffi`, enabled
//! only by the Kotlin binding): a fault kind crosses as its CLI name (`429`, `latency`).

use crate::FaultKind;

uniffi::custom_type!(FaultKind, String, {
    lower: |kind| kind.name().to_owned(),
    try_lift: |name| FaultKind::parse(&name)
        .ok_or_else(|| uniffi::deps::anyhow::anyhow!("unknown fault kind {name:?}")),
});
