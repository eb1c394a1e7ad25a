// Kotlin sugar over the generated bindings: the builder entry point and simulator shortcuts.
@file:JvmName("Builders")

package dev.cttonboard

/** Starts configuring a client: `Client.builder().baseUrl(...).reseller(...).build()`. */
fun Client.Companion.builder(): ClientBuilder = ClientBuilder()

/** Points the builder at [simulator] with the reseller and enterprise credentials it accepts. */
fun ClientBuilder.simulator(simulator: Simulator): ClientBuilder {
    val c = simulator.credentials()
    return baseUrl(simulator.baseUrl())
        .reseller(c.clientId, c.clientSecret, c.username, c.password)
        .enterprise(c.clientId, c.clientSecret, c.enterpriseUsername, c.enterprisePassword)
}

/** The wire spelling of this service, such as `CALLAPP`. */
val Service.wireName: String get() = serviceWireName(this)

/** The wire spelling of this action type, such as `REGISTRATION`. */
val ActionType.wireName: String get() = actionTypeWireName(this)

/** The same request, as a create body would be sent (JSON, wire names). */
fun NewEnterprise.toJson(): String = newEnterpriseToJson(this)

/** Checks what the vendor requires before anything is sent; throws [CttException.InvalidInput]. */
fun NewEnterprise.validate() = validateNewEnterprise(this)
