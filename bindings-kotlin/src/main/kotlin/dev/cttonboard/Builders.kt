// Kotlin sugar over the generated bindings: the builder entry point and simulator shortcuts.
@file:JvmName("Builders")

package dev.cttonboard

import java.time.Duration

/** Starts configuring a client: `Client.builder().baseUrl(...).reseller(...).build()`. */
fun dev.cttonboard.ffi.Client.Companion.builder(): ClientBuilder = ClientBuilder()

/**
 * Configures a [Client]: chain the settings, then [build]. It fills core's [ClientOptions] record
 * (the options' documentation is that record's); the setters never throw, and [build] checks every
 * option at once, [CttException.InvalidInput] naming the one at fault. `toString()` shows no
 * secret.
 */
class ClientBuilder {
    init {
        CallbackThreads.keepAttached()
    }

    private var options = ClientOptions()
    private var key: ByteArray? = null
    private var keys: CallbackKeys? = null
    private var clock: ManualClock? = null
    private var problem: CttException? = null

    private fun set(change: ClientOptions.() -> ClientOptions) = apply { options = options.change() }

    private fun fail(detail: String) = apply { problem = problem ?: CttException.InvalidInput(detail, "invalid_input", null, null, null) }

    private fun millis(what: String, d: Duration) =
        if (d.isNegative) null.also { fail("$what is $d; it must not be negative") } else d.toMillis().toULong()

    /** The API's base URL (https, or http on a loopback host such as the simulator). */
    fun baseUrl(url: String) = set { copy(baseUrl = url) }

    /** The reseller API user's password-grant credentials. */
    fun reseller(clientId: String, clientSecret: String, username: String, password: String) =
        set { copy(reseller = Credentials(clientId, clientSecret, username, password)) }

    /** A reseller-level token obtained elsewhere; used as is, never renewed. */
    fun resellerToken(token: String) = set { copy(resellerToken = token) }

    /** The enterprise's API credentials (password grant) for the `/provisioning` calls. */
    fun enterprise(clientId: String, clientSecret: String, username: String, password: String) =
        set { copy(enterprise = Credentials(clientId, clientSecret, username, password)) }

    /** An enterprise-level token obtained elsewhere; used as is, never renewed. */
    fun enterpriseToken(token: String) = set { copy(enterpriseToken = token) }

    /** How long to wait for a connection. Default 10 s. */
    fun connectTimeout(timeout: Duration) = millis("connect_timeout", timeout).let { ms -> set { copy(connectTimeoutMs = ms) } }

    /** How long one attempt of a call may take in all. Default 30 s. */
    fun timeout(timeout: Duration) = millis("timeout", timeout).let { ms -> set { copy(timeoutMs = ms) } }

    /** The retry policy; fields left null keep their defaults. */
    fun retryPolicy(policy: RetryOptions) = set { copy(retry = policy) }

    /** No retries at all. */
    fun noRetries() = set { copy(retry = RetryOptions(maxAttempts = 1u)) }

    /** The `User-Agent`. */
    fun userAgent(userAgent: String) = set { copy(userAgent = userAgent) }

    /** An HTTP(S) proxy for every call. */
    fun proxy(proxy: String) = set { copy(proxy = proxy) }

    /** Trusts the CA certificates in this PEM text in addition to the system's. */
    fun addCaCertPem(pem: String) = set { copy(caCertPem = caCertPem + pem) }

    /** Replaces an endpoint's path, or method and path: `path("o365_user_info", "GET /provisioning/getO365UserInfo")`. */
    fun path(endpoint: String, route: String) = set { copy(paths = paths + (endpoint to route)) }

    /**
     * The portal's secret for tagging and verifying callback URLs: bytes, at least 16; a ring of
     * this one key, its id derived from it ([callbackKeys] rotates keys).
     */
    fun callbackKey(key: ByteArray) = apply { this.key = key.copyOf(); keys = null }

    /** The portal's callback key ring. A ring without a clock of its own follows the client's. */
    fun callbackKeys(keys: CallbackKeys) = apply { this.keys = keys; key = null }

    /** The clock for token renewal, MSAL expiry and the onboarding's waits (a test knob). */
    fun clock(clock: ManualClock) = apply { this.clock = clock }

    /** The largest response body accepted. Default 1 MiB. */
    fun maxResponseBytes(bytes: Long) =
        if (bytes < 0) fail("max_response_bytes is $bytes; it must be positive") else set { copy(maxResponseBytes = bytes.toULong()) }

    /** The reseller id, when known; otherwise it is read once from `getAuthenticatedUser`. */
    fun resellerId(resellerId: Long) = set { copy(resellerId = resellerId) }

    /** The options as filled so far (a copy). */
    fun options(): ClientOptions = options.copy()

    /** Checks the configuration and builds the client; [CttException.InvalidInput] names the setting that is wrong. */
    @Throws(CttException::class)
    fun build(): Client {
        problem?.let { throw it }
        return Client(options, key, keys, clock)
    }

    override fun toString(): String = "ClientBuilder($options, callbackKey=${if (key != null || keys != null) "***" else "none"})"
}

/** Points the builder at [simulator] with the reseller and enterprise credentials it accepts. */
fun ClientBuilder.simulator(simulator: Simulator): ClientBuilder {
    val c = simulator.credentials()
    return baseUrl(simulator.baseUrl())
        .reseller(c.clientId, c.clientSecret, c.username, c.password)
        .enterprise(c.clientId, c.clientSecret, c.enterpriseUsername, c.enterprisePassword)
}

/** Starts a simulator that accepts [credentials] instead of its defaults (for canary secrets in tests). */
@Throws(CttException::class)
fun dev.cttonboard.ffi.Simulator.Companion.startWithCredentials(credentials: SimCredentials): Simulator =
    Simulator.startWith(SimOptions(credentials = credentials))

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
