// Kotlin sugar over the generated bindings: the builder entry point and simulator shortcuts.
@file:JvmName("Builders")

package dev.cttonboard

/** Starts configuring a client: `Client.builder().baseUrl(...).reseller(...).build()`. */
fun dev.cttonboard.ffi.Client.Companion.builder(): ClientBuilder {
    CallbackThreads.keepAttached()
    return ClientBuilder()
}

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

/** A plan with the default options: `OnboardingPlan(enterprise, redirectUrl)`. */
fun OnboardingPlan(enterprise: NewEnterprise, redirectUrl: String): OnboardingPlan =
    OnboardingPlan(enterprise = enterprise, redirectUrl = redirectUrl, gatewayRegions = emptyList())

/** The step's title for people, such as "Create the enterprise". */
val StepStatus.title: String get() = stepTitle(step)

/** The action a Global Admin acts on for this step, if it is one of those. */
val StepStatus.action: ActionType? get() = stepAction(step)

/** Java-friendly factories (Kotlin callers use the data classes' named arguments). */
object Ctt {
    init {
        CallbackThreads.keepAttached()
    }

    /** A create body with a name and services; set the other fields with their setters. */
    @JvmStatic
    fun newEnterprise(enterpriseName: String, services: List<Service>): NewEnterprise =
        NewEnterprise(enterpriseName = enterpriseName, services = services)

    /** A plan with the default options (service-provider management on). */
    @JvmStatic
    fun plan(enterprise: NewEnterprise, redirectUrl: String): OnboardingPlan =
        OnboardingPlan(enterprise = enterprise, redirectUrl = redirectUrl)

    /** A builder pointed at [simulator] with its credentials. */
    @JvmStatic
    fun builderFor(simulator: Simulator): ClientBuilder = ClientBuilder().simulator(simulator)

    /** Starts a simulator (`Simulator.start()` from Kotlin). */
    @JvmStatic
    @Throws(CttException::class)
    fun startSimulator(): Simulator = Simulator.start()
}
