// Blocking twins of the suspend functions, for Java callers and plain threads. Each call blocks
// the calling thread until the Rust future finishes; from coroutines, call the suspend functions.
@file:JvmName("Blocking")

package dev.cttonboard

import kotlinx.coroutines.runBlocking

/**
 * The [Client] with blocking methods, for Java: `new BlockingClient(client).resellerId()`.
 * Closing it closes the client.
 */
class BlockingClient(val client: Client) : AutoCloseable {
    init {
        CallbackThreads.keepAttached()
    }

    /** See [Client.authenticatedUser]. */
    @Throws(CttException::class)
    fun authenticatedUser(): AuthenticatedUser = runBlocking { client.authenticatedUser() }

    /** See [Client.resellerId]. */
    @Throws(CttException::class)
    fun resellerId(): Long = runBlocking { client.resellerId() }

    /** See [Client.sbcGateways]. */
    @Throws(CttException::class)
    fun sbcGateways(resellerId: Long): List<SbcGateway> = runBlocking { client.sbcGateways(resellerId) }

    /** See [Client.pbxTypes]. */
    @Throws(CttException::class)
    fun pbxTypes(resellerId: Long): List<PbxType> = runBlocking { client.pbxTypes(resellerId) }

    /** See [Client.createEnterprise]. */
    @Throws(CttException::class)
    fun createEnterprise(enterprise: NewEnterprise): Long = runBlocking { client.createEnterprise(enterprise) }

    /** See [Client.actionItemUrl]. */
    @Throws(CttException::class)
    fun actionItemUrl(action: ActionType, enterpriseName: String, redirectUrl: String): String =
        runBlocking { client.actionItemUrl(action, enterpriseName, redirectUrl) }

    /** See [Client.o365UserInfo]. */
    @Throws(CttException::class)
    fun o365UserInfo(auth: AuthenticationResult): O365UserInfo = runBlocking { client.o365UserInfo(auth) }

    /** See [Client.provisionTenantAdminApi]. */
    @Throws(CttException::class)
    fun provisionTenantAdminApi(auth: AuthenticationResult) = runBlocking { client.provisionTenantAdminApi(auth) }

    /** See [Client.updateManagementConsent]. */
    @Throws(CttException::class)
    fun updateManagementConsent(auth: AuthenticationResult, resellerId: Long, tenantId: String) =
        runBlocking { client.updateManagementConsent(auth, resellerId, tenantId) }

    /** See [Client.enterprises]. */
    @Throws(CttException::class)
    fun enterprises(resellerId: Long): List<EnterpriseSummary> = runBlocking { client.enterprises(resellerId) }

    /** See [Client.findEnterprise]. */
    @Throws(CttException::class)
    fun findEnterprise(resellerId: Long, name: String): EnterpriseSummary? =
        runBlocking { client.findEnterprise(resellerId, name) }

    override fun close() = client.close()

    override fun toString(): String = "Blocking$client"
}

/** This client with blocking methods. */
fun Client.blocking(): BlockingClient = BlockingClient(this)

/** Blocking [Simulator.approve]. */
@Throws(CttException::class)
fun Simulator.approveBlocking(url: String, tenant: String): SimCallback = runBlocking { approve(url, tenant) }

/** Blocking [Onboarding.advance]. */
@Throws(CttException::class)
fun Onboarding.advanceBlocking(client: Client): Progress = runBlocking { advance(client) }

/** Blocking [Onboarding.advance] with a checkpoint ([FlowCheckpoint]). */
@Throws(CttException::class)
fun Onboarding.advanceBlocking(client: Client, checkpoint: FlowCheckpoint): Progress =
    runBlocking { advance(client, checkpoint) }
