package dev.cttonboard.scenarios

import dev.cttonboard.*
import kotlinx.coroutines.runBlocking
import org.junit.jupiter.api.Assumptions.assumeTrue
import org.junit.jupiter.api.DynamicNode
import org.junit.jupiter.api.DynamicTest.dynamicTest
import org.junit.jupiter.api.TestFactory
import java.io.File
import java.net.URI
import java.util.Base64
import java.util.concurrent.ConcurrentLinkedQueue
import java.util.concurrent.atomic.AtomicInteger

/**
 * The shared scenarios (the JSON files in tests/scenarios) through the Kotlin binding's public API: one
 * dynamic test per scenario case, named `<family>/<case>`. Each family's runner drives the case
 * and builds an observed map with the keys the data's `expect` uses; [matches] compares the two
 * (`message`, `waitReason` and `jsonHolds` are fragments, everything else is equal).
 */
class ScenariosTest {
    private val language = "kotlin"
    private val fragments = setOf("message", "waitReason", "jsonHolds")
    private val notCompared = setOf("description")
    private val counter = AtomicInteger()

    private fun unique(prefix: String) = "$prefix ${counter.incrementAndGet()}"

    // ------------------------------------------------------------ the data

    private fun families(): List<Pair<String, Map<String, Any?>>> {
        val dir = File(System.getProperty("ctt.scenarios") ?: "..")
        val files = dir.listFiles { f -> f.name.endsWith(".json") }?.sortedBy { it.name }.orEmpty()
        require(files.isNotEmpty()) { "no scenario files in ${dir.absolutePath}" }
        return files.map { it.name.removeSuffix(".json") to obj(Json.parse(it.readText())) }
    }

    @Suppress("UNCHECKED_CAST")
    private fun obj(v: Any?): Map<String, Any?> = v as? Map<String, Any?> ?: error("expected an object, got $v")

    @Suppress("UNCHECKED_CAST")
    private fun list(v: Any?): List<Any?> = v as? List<Any?> ?: error("expected an array, got $v")

    private fun Map<String, Any?>.str(key: String): String = this[key] as? String ?: error("$key is not a string in $this")
    private fun Map<String, Any?>.long(key: String): Long = (this[key] as? Json.Num)?.toLong() ?: error("$key is not a number in $this")
    private fun Map<String, Any?>.bool(key: String): Boolean = this[key] == true
    private fun Map<String, Any?>.or(key: String, defaults: Map<String, Any?>): Any? = if (key in this) this[key] else defaults[key]

    /** A string of the data: itself, or `{"repeat": s, "times": n}`. */
    private fun text(v: Any?): String = when (v) {
        is Map<*, *> -> obj(v).str("repeat").repeat(obj(v).long("times").toInt())
        else -> v.toString()
    }

    private fun expectation(c: Map<String, Any?>): Map<String, Any?> {
        val byLanguage = c["expectByLanguage"]?.let { obj(it) }.orEmpty()
        return obj(if (language in byLanguage) byLanguage[language] else c["expect"] ?: emptyMap<String, Any?>())
    }

    private fun matches(expected: Any?, observed: Any?, where: String = "expect"): List<String> = when (expected) {
        is Map<*, *> -> {
            if (observed !is Map<*, *>) {
                listOf("$where: expected an object, observed $observed")
            } else {
                expected.entries.flatMap { (k, want) ->
                    val key = k.toString()
                    val at = "$where.$key"
                    when {
                        key in notCompared -> emptyList()
                        !observed.containsKey(key) -> listOf("$at: expected ${Json.write(want)}, observed nothing")
                        key in fragments -> {
                            val got = observed[key]
                            val wanted = if (want is List<*>) want else listOf(want)
                            if (got is String && wanted.all { got.contains(text(it)) }) emptyList()
                            else listOf("$at: expected a text holding ${Json.write(want)}, observed ${Json.write(got)}")
                        }
                        else -> matches(want, observed[key], at)
                    }
                }
            }
        }
        is List<*> -> {
            if (observed !is List<*> || observed.size != expected.size) {
                listOf("$where: expected ${Json.write(expected)}, observed ${Json.write(observed)}")
            } else {
                expected.indices.flatMap { matches(expected[it], observed[it], "$where[$it]") }
            }
        }
        is Json.Num -> if (observed is Number && observed.toLong() == expected.toLong()) emptyList()
        else listOf("$where: expected $expected, observed ${Json.write(observed)}")
        else -> if (expected == observed) emptyList() else listOf("$where: expected ${Json.write(expected)}, observed ${Json.write(observed)}")
    }

    private fun check(expected: Map<String, Any?>, observed: Map<String, Any?>) {
        val problems = matches(expected, observed)
        if (problems.isNotEmpty()) throw AssertionError((problems + "observed: ${Json.write(observed)}").joinToString("\n"))
    }

    private fun ensure(ok: Boolean, what: () -> String) {
        if (!ok) throw AssertionError(what())
    }

    // ------------------------------------------------------------ shared pieces

    private fun plain(v: Any?): Any? = when {
        v is Map<*, *> && "idText" in v -> (v["idText"] as String).toLong()
        v is Map<*, *> && "repeat" in v -> text(v)
        else -> v
    }

    @Suppress("UNCHECKED_CAST")
    private fun strings(v: Any?): List<String> = list(v).map { it as String }

    /** The plan of the data (camelCase plan fields, the wire's enterprise fields) as an [OnboardingPlan]. */
    private fun planOf(defaults: Map<String, Any?>, casePlan: Map<String, Any?>, name: String): OnboardingPlan {
        val base = defaults["plan"]?.let { obj(it) }.orEmpty()
        val e = LinkedHashMap<String, Any?>(mapOf("enterpriseName" to name))
        base["enterprise"]?.let { e.putAll(obj(it)) }
        casePlan["enterprise"]?.let { e.putAll(obj(it)) }
        val fields = LinkedHashMap<String, Any?>(mapOf("redirectUrl" to defaults["redirectUrl"]))
        fields.putAll(base.filterKeys { it != "enterprise" })
        fields.putAll(casePlan.filterKeys { it != "enterprise" })
        val known = setOf("enterpriseName", "services", "restrictAdminAccess")
        require(e.keys.all { it in known }) { "the Kotlin harness does not map enterprise fields ${e.keys - known}" }
        val enterprise = NewEnterprise(
            enterpriseName = plain(e["enterpriseName"]) as String,
            services = strings(e["services"]).map { serviceFromWire(it) },
            restrictAdminAccess = e["restrictAdminAccess"] as Boolean?,
        )
        val knownPlan = setOf("redirectUrl", "gatewayRegions", "serviceProviderManagement", "existingEnterpriseId")
        require(fields.keys.all { it in knownPlan }) { "the Kotlin harness does not map plan fields ${fields.keys - knownPlan}" }
        return OnboardingPlan(
            enterprise = enterprise,
            redirectUrl = plain(fields["redirectUrl"]) as String,
            gatewayRegions = fields["gatewayRegions"]?.let { strings(it) } ?: listOf(),
            existingEnterpriseId = plain(fields["existingEnterpriseId"]) as Long?,
            serviceProviderManagement = fields["serviceProviderManagement"] as Boolean? ?: true,
        )
    }

    /** The code and the message of a [CttException] (every subclass has `code` and `detail`). */
    private fun errorOf(e: Throwable): Map<String, Any?> {
        if (e !is CttException) throw AssertionError("expected a CttException, got $e", e)
        return mapOf("code" to e.javaClass.getMethod("getCode").invoke(e), "message" to e.javaClass.getMethod("getDetail").invoke(e))
    }

    private fun snapshotOf(flow: Onboarding) = flow.toJson() to flow.revision()
    private fun creates(sim: Simulator) = sim.requests().count { it.path == "/reseller/newEnterprise" }.toLong()
    private fun stepsOf(flow: Onboarding) = flow.status().associate { it.step to it.state.name.lowercase() }

    private fun awaiting(p: Progress): Progress.AwaitingAdmin =
        p as? Progress.AwaitingAdmin ?: throw AssertionError("expected an ask, got $p")

    private fun param(url: String, name: String): String =
        url.substringAfter('?').split('&').firstOrNull { it.startsWith("$name=") }?.substringAfter('=')
            ?: throw AssertionError("$name not in $url")

    private fun replaceParam(url: String, name: String, value: String): String {
        param(url, name)
        val pairs = url.substringAfter('?').split('&').map { if (it.startsWith("$name=")) "$name=$value" else it }
        return url.substringBefore('?') + "?" + pairs.joinToString("&")
    }

    private fun flipTag(url: String): String {
        val tag = param(url, "ctt_tag")
        return replaceParam(url, "ctt_tag", (if (tag[0] == 'A') "B" else "A") + tag.substring(1))
    }

    @Suppress("UNCHECKED_CAST")
    private fun auth(body: Any?): MutableMap<String, Any?> =
        obj(obj(obj(body)["msalAuthenticationResult"])["authenticationResult"]) as MutableMap<String, Any?>

    private fun accessToken(body: String) = auth(Json.parse(body)).str("accessToken")

    private fun withAccessToken(body: String, token: String): String {
        val data = Json.parse(body)
        auth(data)["accessToken"] = token
        return Json.write(data)
    }

    private fun jwt(claims: Map<String, Any?>): String {
        fun part(v: Any?) = Base64.getUrlEncoder().withoutPadding().encodeToString(Json.write(v).toByteArray())
        return "${part(mapOf("alg" to "none"))}.${part(claims)}.sig"
    }

    private inline fun <T> catching(block: () -> T): Result<T> = try {
        Result.success(block())
    } catch (e: CttException) {
        Result.failure(e)
    }

    // ------------------------------------------------------------ flows

    private fun runFlow(defaults: Map<String, Any?>, c: Map<String, Any?>) = runBlocking {
        val stepMs = (c.or("clockStepSeconds", defaults) as Json.Num).toLong() * 1000
        val observed = LinkedHashMap<String, Any?>()
        Simulator.start().use { sim ->
            val clock = ManualClock()
            Client.builder().simulator(sim).callbackKey(defaults.str("callbackKey")).clock(clock).build().use { client ->
                val flow = Onboarding(planOf(defaults, obj(c["plan"]), unique(c.str("name"))))
                val actions = mutableListOf<String>()
                observed["outcome"] = "unfinished"
                for (round in 0 until defaults.long("maxRounds")) {
                    when (val p = flow.advance(client)) {
                        is Progress.AwaitingAdmin -> {
                            actions += p.action.wireName
                            val cb = sim.approveWithoutPosting(p.url, c.str("tenant"))
                            val before = snapshotOf(flow)
                            val outcome = catching { flow.handleCallback(client, cb.url, cb.body) }
                            val e = outcome.exceptionOrNull()
                            if (e != null) {
                                observed["outcome"] = "refused"
                                observed["refused"] = mapOf("action" to p.action.wireName) + errorOf(e) +
                                    mapOf("flowUnchanged" to (snapshotOf(flow) == before))
                                val again = awaiting(flow.advance(client))
                                observed["reasked"] = mapOf("action" to again.action.wireName, "sameUrl" to (again.url == p.url))
                                break
                            }
                            ensure(outcome.getOrThrow() == CallbackOutcome.ACCEPTED) { "callback: ${outcome.getOrNull()}" }
                        }
                        is Progress.WaitingUntil -> {
                            actions += "wait"
                            observed["waitReason"] = p.reason
                            clock.advanceMs(stepMs)
                            sim.advanceClockMs(stepMs)
                        }
                        is Progress.Complete -> {
                            observed["outcome"] = "complete"
                            ensure(flow.isComplete() && p.tenantId == flow.tenantId() && p.enterpriseId == flow.enterpriseId()) {
                                "complete: $p, flow ${flow.tenantId()} ${flow.enterpriseId()}"
                            }
                            break
                        }
                    }
                }
                observed["actions"] = actions
                observed["tenantId"] = flow.tenantId()
                observed["enterprisesCreated"] = sim.enterprises().size.toLong()
                observed["createRequests"] = creates(sim)
                observed["steps"] = stepsOf(flow)
            }
        }
        check(expectation(c), observed)
    }

    // ------------------------------------------------------------ callbacks

    private fun runCallback(defaults: Map<String, Any?>, c: Map<String, Any?>) = runBlocking {
        val attack = obj(c["attack"])
        val tenant = c.or("tenant", defaults) as String
        val services = mapOf("enterprise" to mapOf("services" to c.or("services", defaults)))
        val observed = LinkedHashMap<String, Any?>()
        Simulator.start().use { sim ->
            val clock = ManualClock()
            val ring = CallbackKeys(defaults.str("callbackKey"), defaults.str("callbackKeyId")).clock(clock)
            Client.builder().simulator(sim).callbackKeys(ring).clock(clock).build().use { client ->
                fun newFlow() = Onboarding(planOf(defaults, services, unique(c.str("name"))))
                val flow = newFlow()
                val ask = awaiting(flow.advance(client))
                ensure(ask.action == ActionType.Registration) { "first ask: ${ask.action}" }
                val genuine = sim.approveWithoutPosting(ask.url, tenant)
                var keys: CallbackKeys? = null
                var url = genuine.url
                var body = genuine.body
                var verifyOnly = false
                when (val kind = attack.str("kind")) {
                    "genuine" -> {}
                    "replay" -> {
                        ensure(flow.handleCallback(client, genuine.url, genuine.body) == CallbackOutcome.ACCEPTED) { "first delivery" }
                        if (attack.bool("reformat")) {
                            body = Json.write(obj(Json.parse(genuine.body)).entries.reversed().associate { it.key to it.value }, indent = 2)
                            ensure(body != genuine.body) { "reformatted body is the same" }
                        }
                    }
                    "tampered_tag" -> url = flipTag(url)
                    "tampered_param" -> url = replaceParam(url, attack.str("param"), attack.str("value"))
                    "foreign_key" -> keys = CallbackKeys(attack.str("key"), attack.str("keyId")).clock(clock)
                    "other_flow" -> {
                        val other = newFlow()
                        val theirs = sim.approveWithoutPosting(awaiting(other.advance(client)).url, tenant)
                        url = theirs.url
                        body = theirs.body
                    }
                    "superseded" -> {
                        val forged = withAccessToken(genuine.body, "opaque-forged-token-0001")
                        ensure(flow.handleCallback(client, genuine.url, forged) == CallbackOutcome.ACCEPTED) { "forged body taken offline" }
                        val again = awaiting(flow.advance(client))
                        ensure(again.url != ask.url) { "the refused ask was asked again with a new URL" }
                        observed["reaskedAction"] = again.action.wireName
                    }
                    "answered_different_body" -> {
                        ensure(flow.handleCallback(client, genuine.url, genuine.body) == CallbackOutcome.ACCEPTED) { "first delivery" }
                        awaiting(flow.advance(client))
                        @Suppress("UNCHECKED_CAST")
                        val data = Json.parse(genuine.body) as MutableMap<String, Any?>
                        val field = attack.str("flipField")
                        data[field] = !((data[field] as Boolean?) ?: true)
                        body = Json.write(data)
                    }
                    "expired" -> clock.advanceMs(attack.long("clockAdvanceSeconds") * 1000)
                    "tenant_mismatch" -> {
                        val data = Json.parse(genuine.body)
                        val a = auth(data)
                        a["accessToken"] = jwt(mapOf("tid" to attack.str("tokenTenant")))
                        @Suppress("UNCHECKED_CAST")
                        (a["userInfo"] as MutableMap<String, Any?>)["tenantId"] = attack.str("bodyTenant")
                        body = Json.write(data)
                    }
                    "relative_url" -> {
                        val path = attack["path"] as String? ?: URI(genuine.url).rawPath
                        url = "$path?${genuine.url.substringAfter('?')}"
                        verifyOnly = attack.bool("verifyOnly")
                    }
                    "body" -> body = text(attack["body"])
                    else -> throw AssertionError("unknown attack kind $kind")
                }
                val before = snapshotOf(flow)
                val result = catching {
                    when {
                        verifyOnly -> {
                            if (keys != null) verifyCallback(keys, url, body) else verifyCallback(client, url, body)
                            "verified"
                        }
                        keys != null -> flow.handleCallback(keys, url, body).name.lowercase()
                        else -> flow.handleCallback(client, url, body).name.lowercase()
                    }
                }
                result.exceptionOrNull()?.let { observed["outcome"] = "refused"; observed.putAll(errorOf(it)) }
                result.getOrNull()?.let { observed["outcome"] = it }
                observed["flowUnchanged"] = snapshotOf(flow) == before
            }
        }
        check(expectation(c), observed)
    }

    // ------------------------------------------------------------ hostile inputs

    private fun runHostile(defaults: Map<String, Any?>, c: Map<String, Any?>) {
        val observed = when (val kind = c.str("kind")) {
            "plan" -> hostilePlan(defaults, c)
            "flow_json" -> hostileFlowJson(defaults, c)
            else -> throw AssertionError("unknown hostile kind $kind")
        }
        check(expectation(c), observed)
    }

    private fun hostilePlan(defaults: Map<String, Any?>, c: Map<String, Any?>): Map<String, Any?> = runBlocking {
        val made = catching { Onboarding(planOf(defaults, obj(c["plan"]), "Hostile Scenario")) }
        val flow = made.getOrElse { return@runBlocking mapOf("outcome" to "refused", "stage" to "new") + errorOf(it) }
        if (c["advance"] == false) {
            val kept = Onboarding.fromJson(flow.toJson()).plan()
            return@runBlocking mapOf(
                "outcome" to "kept",
                "planServices" to kept.enterprise.services.map { it.wireName },
                "existingEnterpriseId" to kept.existingEnterpriseId?.toString(),
            )
        }
        Simulator.start().use { sim ->
            Client.builder().simulator(sim).callbackKey(defaults.str("callbackKey")).build().use { client ->
                val advanced = catching { awaiting(flow.advance(client)) }
                val observed = LinkedHashMap<String, Any?>()
                advanced.exceptionOrNull()?.let { observed["outcome"] = "refused"; observed["stage"] = "advance"; observed.putAll(errorOf(it)) }
                advanced.getOrNull()?.let { observed["outcome"] = "accepted"; observed["action"] = it.action.wireName }
                observed["createRequests"] = creates(sim)
                observed["enterprisesCreated"] = sim.enterprises().size.toLong()
                observed
            }
        }
    }

    private fun hostileFlowJson(defaults: Map<String, Any?>, c: Map<String, Any?>): Map<String, Any?> {
        var source: String
        if ("text" in c) {
            source = text(c["text"])
        } else {
            source = Onboarding(planOf(defaults, emptyMap(), "Hostile Scenario")).toJson()
            for (pair in list(c["replace"] ?: emptyList<Any?>())) {
                val (from, to) = strings(pair)
                ensure(source.contains(from)) { "$from is not in a new flow's JSON: ${source.take(300)}" }
                source = source.replace(from, to)
            }
            if (c.bool("truncate")) source = source.substring(0, source.length / 2)
        }
        val flow = catching { Onboarding.fromJson(source) }.getOrElse { return mapOf("outcome" to "refused") + errorOf(it) }
        val enterpriseId = catching { flow.enterpriseId() }.getOrElse {
            return mapOf("outcome" to "refused_on_read", "read" to "enterpriseId") + errorOf(it)
        }
        return mapOf("outcome" to "kept", "enterpriseId" to enterpriseId?.toString(), "jsonHolds" to flow.toJson())
    }

    // ------------------------------------------------------------ secrets

    private fun runSecrets(defaults: Map<String, Any?>, c: Map<String, Any?>) = runBlocking {
        val logs = ConcurrentLinkedQueue<String>()
        installLogger(LogLevel.DEBUG) { level, target, message -> logs.add("$level $target $message") }
        val texts = LinkedHashMap<String, MutableList<String>>()
        val dynamic = LinkedHashMap<String, String>()
        fun show(surface: String, vararg values: Any?) {
            for (v in values) texts.getOrPut(surface) { mutableListOf() } += v.toString()
        }
        fun showError(e: Throwable) {
            var t: Throwable? = e
            while (t != null) {
                show("errors", t, t.message, t.stackTraceToString())
                t = t.cause
            }
        }
        val key = c.or("callbackKey", defaults) as String
        try {
            val defaultsOfSim = Simulator.start().use { it.credentials() }
            val creds = c["simCredentials"]?.let { obj(it) }.orEmpty()
            val simulator = if (creds.isEmpty()) Simulator.start() else Simulator.startWithCredentials(
                defaultsOfSim.copy(
                    clientSecret = creds["clientSecret"] as String? ?: defaultsOfSim.clientSecret,
                    password = creds["password"] as String? ?: defaultsOfSim.password,
                    enterprisePassword = creds["enterprisePassword"] as String? ?: defaultsOfSim.enterprisePassword,
                    clientId = creds["clientId"] as String? ?: defaultsOfSim.clientId,
                    username = creds["username"] as String? ?: defaultsOfSim.username,
                    enterpriseUsername = creds["enterpriseUsername"] as String? ?: defaultsOfSim.enterpriseUsername,
                ),
            )
            simulator.use { sim ->
                val clock = ManualClock()
                val spec = c["client"]
                val simCreds = sim.credentials()
                val client = when {
                    spec == "simulator" -> Client.builder().simulator(sim).callbackKey(key).clock(clock).build()
                    "resellerToken" in obj(spec) -> Client.builder().baseUrl(sim.baseUrl()).resellerToken(obj(spec).str("resellerToken")).clock(clock).build()
                    else -> {
                        val s = obj(spec)
                        Client.builder().simulator(sim).reseller(
                            simCreds.clientId,
                            s["clientSecret"] as String? ?: simCreds.clientSecret,
                            simCreds.username,
                            s["password"] as String? ?: simCreds.password,
                        ).callbackKey(key).clock(clock).build()
                    }
                }
                client.use {
                    show("client", client)
                    client.callbackKeys()?.let { show("keys", it) }
                    if (c["run"] == "failing_call") {
                        val failed = catching { client.resellerId() }.exceptionOrNull()
                            ?: throw AssertionError("reseller_id should have failed")
                        ensure(errorOf(failed)["code"] == c["expectCode"]) { "failing call: $failed" }
                        showError(failed)
                    } else {
                        val flow = secretsFlow(sim, client, defaults, c, dynamic, ::showError)
                        show("flow", flow)
                        texts["flowJsonWithoutTokens"] = mutableListOf(flow.toJsonWithoutTokens())
                        texts["flowJson"] = mutableListOf(flow.toJson())
                        show("status", flow.status(), *flow.status().toTypedArray())
                        show("progress", flow.progress())
                    }
                }
            }
        } finally {
            uninstallLogger()
        }
        texts["logs"] = logs.toMutableList()
        ensure(logs.isNotEmpty()) { "the library logged nothing at debug level: the logs were not captured" }
        val problems = mutableListOf<String>()
        for (canarySpec in list(c["canaries"])) {
            val spec = if (canarySpec is Map<*, *>) obj(canarySpec) else mapOf("value" to canarySpec)
            val canary = if ("from" in spec) dynamic[spec.str("from")] else spec["value"] as String?
            ensure(!canary.isNullOrEmpty()) { "canary ${Json.write(canarySpec)} is empty" }
            for (surface in strings(c["surfaces"])) {
                val shown = texts[surface] ?: throw AssertionError("surface $surface was not collected in this case")
                for (t in shown) if (t.contains(canary!!)) problems += "canary ${Json.write(canarySpec)} leaked into $surface: ${t.take(300)}"
            }
            for (surface in spec["mustAppearIn"]?.let { strings(it) }.orEmpty()) {
                if (texts[surface].orEmpty().none { it.contains(canary!!) }) problems += "canary ${Json.write(canarySpec)} should be in $surface but is not"
            }
        }
        ensure(problems.isEmpty()) { problems.joinToString("\n") }
    }

    private suspend fun secretsFlow(
        sim: Simulator,
        client: Client,
        defaults: Map<String, Any?>,
        c: Map<String, Any?>,
        dynamic: MutableMap<String, String>,
        showError: (Throwable) -> Unit,
    ): Onboarding {
        val flow = Onboarding(planOf(defaults, mapOf("enterprise" to mapOf("services" to c.or("services", defaults))), unique(c.str("name"))))
        val tenant = c.or("tenant", defaults) as String
        var forge = c["forgeAccessToken"] as String?
        var probed = false
        for (round in 0 until 20) {
            val p = flow.advance(client)
            if (p is Progress.Complete) break
            val cb = sim.approveWithoutPosting(awaiting(p).url, tenant)
            dynamic.putIfAbsent("firstCallbackAccessToken", accessToken(cb.body))
            dynamic["lastCallbackAccessToken"] = accessToken(cb.body)
            if (forge != null) {
                ensure(flow.handleCallback(client, cb.url, withAccessToken(cb.body, forge)) == CallbackOutcome.ACCEPTED) { "forged body taken offline" }
                forge = null
                continue
            }
            if (!probed) {
                val failed = catching { flow.handleCallback(client, flipTag(cb.url), cb.body) }.exceptionOrNull()
                    ?: throw AssertionError("a tampered tag should be refused")
                showError(failed)
                probed = true
            }
            ensure(flow.handleCallback(client, cb.url, cb.body) == CallbackOutcome.ACCEPTED) { "callback refused" }
        }
        ensure(flow.isComplete()) { "the flow did not complete: ${flow.status()}" }
        return flow
    }

    // ------------------------------------------------------------ the cases

    private val runners: Map<String, (Map<String, Any?>, Map<String, Any?>) -> Unit> = mapOf(
        "flows" to ::runFlow,
        "callbacks" to ::runCallback,
        "hostile_inputs" to ::runHostile,
        "secrets" to ::runSecrets,
    )

    @TestFactory
    fun scenarios(): List<DynamicNode> = families().flatMap { (family, data) ->
        val runner = runners[family] ?: error("tests/scenarios/$family.json has no Kotlin runner")
        val cases = list(data["cases"])
        require(cases.isNotEmpty()) { "tests/scenarios/$family.json has no cases" }
        val defaults = data["defaults"]?.let { obj(it) }.orEmpty()
        cases.map { obj(it) }.map { c ->
            val name = "$family/${c.str("name")}"
            dynamicTest(name) {
                val reason = c["skip"]?.let { obj(it)[language] } as String?
                if (reason != null) println("SKIP $name: $reason")
                assumeTrue(reason == null, "$name: $reason")
                runner(defaults, c)
            }
        }
    }
}
