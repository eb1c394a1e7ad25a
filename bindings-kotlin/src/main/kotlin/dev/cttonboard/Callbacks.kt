// Kotlin sugar over the generated callback and checkpoint API: string keys as their UTF-8 bytes,
// handleCallback with a client, and advance with a checkpoint.
@file:JvmName("Callbacks")

package dev.cttonboard

/** The portal's callback key as the UTF-8 bytes of [key] (at least 16 bytes); see [ClientBuilder.callbackKey]. */
fun ClientBuilder.callbackKey(key: String): ClientBuilder = callbackKey(key.toByteArray(Charsets.UTF_8))

/**
 * A key ring whose signing key is the UTF-8 bytes of [signingKey]: `CallbackKeys("the portal's secret", "k2")`.
 * See the [CallbackKeys] constructor.
 */
@Throws(CttException::class)
operator fun dev.cttonboard.ffi.CallbackKeys.Companion.invoke(signingKey: String, id: String? = null): CallbackKeys =
    CallbackKeys(signingKey.toByteArray(Charsets.UTF_8), id)

/** [CallbackKeys.verifyAlso] with the UTF-8 bytes of [key]. */
@Throws(CttException::class)
fun CallbackKeys.verifyAlso(key: String, id: String? = null): CallbackKeys = verifyAlso(key.toByteArray(Charsets.UTF_8), id)

/**
 * Takes a callback with [client]'s key ring and clock (the ring its `advance` signed the URL
 * with); see [Onboarding.handleCallback]. [CttException.InvalidInput] when the client has no
 * callback key.
 */
@Throws(CttException::class)
fun Onboarding.handleCallback(client: Client, url: String, body: String): CallbackOutcome =
    handleCallback(client.callbackKeys() ?: throw noKey(), url, body)

private fun noKey() = CttException.InvalidInput(
    "the client has no callback key: set callbackKey or callbackKeys on the client builder",
    "invalid_input", null, null, null,
)

/** [verifyCallback] with [client]'s key ring; [CttException.InvalidInput] when it has none. */
@Throws(CttException::class)
fun verifyCallback(client: Client, url: String, body: String): VerifiedCallback {
    return verifyCallback(client.callbackKeys() ?: throw noKey(), url, body)
}

/** A [CttException.FlowState] with [detail], for a [FlowCheckpoint] whose stored row moved on. */
fun flowStateException(detail: String): CttException = CttException.FlowState(detail, "flow_state", null, null, null)

/**
 * The checkpoint as the binding calls it: a [CttException] passes through as it is, and any
 * other [Throwable] (an `AssertionError`, an `SQLException`) becomes [CttException.FlowState],
 * so no throwable of the checkpoint can escape into the native call as if the save had worked.
 */
private class GuardedCheckpoint(private val inner: FlowCheckpoint) : FlowCheckpoint {
    override fun save(flow: Onboarding, previousRevision: Long) {
        try {
            inner.save(flow, previousRevision)
        } catch (e: dev.cttonboard.ffi.CheckpointException.Failed) {
            throw e
        } catch (e: CttException) {
            throw dev.cttonboard.ffi.CheckpointException.Failed(e)
        } catch (t: Throwable) {
            throw dev.cttonboard.ffi.CheckpointException.Failed(CttException.FlowState("the checkpoint failed: $t", "flow_state", null, null, null))
        }
    }
}

/**
 * [Onboarding.advance], calling [checkpoint] with a snapshot of the flow after every step that
 * changed it and before the create (see [FlowCheckpoint]). When the checkpoint throws, this
 * throws: its [CttException] as it is, anything else as [CttException.FlowState]; before the
 * create, nothing is sent.
 */
@Throws(CttException::class)
suspend fun Onboarding.advance(client: Client, checkpoint: FlowCheckpoint): Progress =
    advanceWithCheckpoint(client, GuardedCheckpoint(checkpoint))

/** [advance] with a lambda as the checkpoint: `flow.advance(client) { snapshot, previousRevision -> ... }`. */
@Throws(CttException::class)
suspend fun Onboarding.advance(client: Client, checkpoint: (flow: Onboarding, previousRevision: Long) -> Unit): Progress =
    advance(
        client,
        object : FlowCheckpoint {
            override fun save(flow: Onboarding, previousRevision: Long) = checkpoint(flow, previousRevision)
        },
    )
