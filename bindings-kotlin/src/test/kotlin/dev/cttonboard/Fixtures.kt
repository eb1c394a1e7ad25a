package dev.cttonboard

import java.util.UUID

/** One simulator per test class, and helpers to build clients and names against it. */
object Fixtures {
    /** A name no other test uses. */
    fun uniqueName(prefix: String = "Enterprise"): String = "$prefix ${UUID.randomUUID().toString().take(8)}"

    /** A client for [sim] with its reseller and enterprise credentials. */
    fun client(sim: Simulator, configure: ClientBuilder.() -> ClientBuilder = { this }): Client =
        Client.builder().simulator(sim).configure().build()

    /** A create body that needs no gateway or PBX type. */
    fun smsEnterprise(name: String = uniqueName()): NewEnterprise =
        NewEnterprise(enterpriseName = name, services = listOf(Service.Sms, Service.Chat), restrictAdminAccess = true)

    /** A redirect URL the simulator accepts and posts to nobody. */
    const val REDIRECT = "https://portal.example/ctt/callback"
}
