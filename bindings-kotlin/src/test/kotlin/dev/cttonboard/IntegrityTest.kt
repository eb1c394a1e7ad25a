package dev.cttonboard

import kotlinx.coroutines.runBlocking
import org.junit.jupiter.api.AfterEach
import org.junit.jupiter.api.BeforeEach
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.io.TempDir
import java.io.File
import java.nio.file.Path
import java.nio.file.Paths
import java.security.SecureRandom
import java.util.concurrent.TimeUnit
import kotlin.test.assertEquals
import kotlin.test.assertFailsWith
import kotlin.test.assertFalse
import kotlin.test.assertIs
import kotlin.test.assertNotEquals
import kotlin.test.assertNotNull
import kotlin.test.assertNull
import kotlin.test.assertTrue

/**
 * Issue 13 through the binding: forged bodies under genuine tags, replays, earlier asks, retired
 * keys, keys as bytes, two flows with one name, two JVM processes racing on one SQLite file, and
 * a checkpoint that fails before the create.
 */
class IntegrityTest {
    private val key = "integrity-callback-key-0123456789"
    private lateinit var sim: Simulator
    private lateinit var client: Client
    private val contoso = simTenants().single { it.key == "contoso" }.tenantId
    private val fabrikam = simTenants().single { it.key == "fabrikam" }.tenantId

    @BeforeEach
    fun start() {
        sim = Simulator.start()
        client = Fixtures.client(sim) { callbackKey(key) }
    }

    @AfterEach
    fun stop() {
        client.close()
        sim.close()
    }

    private fun plan(
        name: String = Fixtures.uniqueName("Integrity"),
        services: List<Service> = listOf(Service.Sms, Service.Chat),
        consents: List<ActionType> = emptyList(),
    ) = OnboardingPlan(
        enterprise = NewEnterprise(enterpriseName = name, services = services),
        redirectUrl = Fixtures.REDIRECT,
        optionalConsents = consents,
    )

    private fun nonce(url: String) = url.substringAfter("ctt_nonce=").substringBefore('&')

    private fun step(flow: Onboarding, name: String) = flow.status().single { it.step == name }

    /** [body] parsed, changed by [edit], written again. */
    private fun forge(body: String, edit: (root: Any?) -> Unit): String = TestJson.parse(body).also(edit).let { TestJson.write(it) }

    private fun authOf(root: Any?) = TestJson.obj(root, "msalAuthenticationResult", "authenticationResult")

    private fun consentsOf(enterpriseId: Long?, action: String) =
        sim.consents().count { it.enterpriseId == enterpriseId && it.action == action }

    /** Drives [flow] to completion as [tenant]'s admin, with [with] (the test's client by default). */
    private suspend fun complete(flow: Onboarding, tenant: String, with: Client = client): Progress.Complete {
        repeat(40) {
            when (val p = flow.advance(with)) {
                is Progress.AwaitingAdmin -> {
                    val cb = sim.approveWithoutPosting(p.url, tenant)
                    assertEquals(CallbackOutcome.ACCEPTED, flow.handleCallback(with, cb.url, cb.body))
                }
                is Progress.WaitingUntil -> error("$tenant never waits")
                is Progress.Complete -> return p
            }
        }
        error("the flow did not complete: ${flow.status()}")
    }

    // 1. A forged body under a genuine tag.

    @Test
    fun `a forged body under a genuine tag binds no tenant and the flow asks again`(): Unit = runBlocking {
        val flow = Onboarding(plan())
        val ask = assertIs<Progress.AwaitingAdmin>(flow.advance(client))
        assertEquals(ActionType.Registration, ask.action)
        val genuine = sim.approveWithoutPosting(ask.url, "contoso")
        // The genuine URL, a body of the attacker's choosing: another tenant, an opaque token.
        val forged = forge(genuine.body) { root ->
            val auth = authOf(root)
            auth["accessToken"] = "forged-opaque-access-token-0001"
            auth["idToken"] = "forged-opaque-id-token-0001"
            TestJson.obj(auth, "userInfo")["tenantId"] = fabrikam
        }
        // Nothing offline contradicts it (an opaque token has no tid), so it is accepted, but
        // nothing relies on it yet.
        assertEquals(CallbackOutcome.ACCEPTED, flow.handleCallback(client, genuine.url, forged))
        assertTrue(flow.hasUnconfirmedCallback())
        assertNull(flow.tenantId())

        // advance asks ConnecttoTeams, which refuses the sign-in: the step asks again.
        val again = assertIs<Progress.AwaitingAdmin>(flow.advance(client))
        assertEquals(ActionType.Registration, again.action)
        assertNotEquals(ask.url, again.url, "a new ask")
        assertNull(flow.tenantId(), "the forged tenant is not bound")
        val detail = assertNotNull(step(flow, "registration").detail)
        assertTrue(detail.contains("the last callback was refused"), detail)

        // The genuine admin answers the new ask (a new nonce) and the flow completes for contoso.
        val cb = sim.approveWithoutPosting(again.url, "contoso")
        assertNotEquals(nonce(genuine.url), nonce(cb.url))
        assertEquals(CallbackOutcome.ACCEPTED, flow.handleCallback(client, cb.url, cb.body))
        val done = complete(flow, "contoso")
        assertEquals(contoso, done.tenantId)
        assertEquals(contoso, flow.tenantId())
        assertEquals(contoso, sim.enterprises().single { it.id == done.enterpriseId }.tenantId)
    }

    @Test
    fun `a forged tenant beside a genuine JWT is refused offline`(): Unit = runBlocking {
        val flow = Onboarding(plan())
        val ask = assertIs<Progress.AwaitingAdmin>(flow.advance(client))
        val genuine = sim.approveWithoutPosting(ask.url, "contoso")
        val forged = forge(genuine.body) { root -> TestJson.obj(authOf(root), "userInfo")["tenantId"] = fabrikam }
        val before = flow.toJson()
        val revision = flow.revision()
        val e = assertFailsWith<CttException.CallbackInvalid> { flow.handleCallback(client, genuine.url, forged) }
        assertTrue(e.detail.contains(fabrikam) && e.detail.contains(contoso), e.detail)
        assertEquals(before, flow.toJson())
        assertEquals(revision, flow.revision())
        // The ask is still open for the genuine body.
        assertEquals(CallbackOutcome.ACCEPTED, flow.handleCallback(client, genuine.url, genuine.body))
    }

    @Test
    fun `a forged containsTeamsTenantAdminAPI does not skip the provisioning`(): Unit = runBlocking {
        // fabrikam has no Tenant Admin API: the flow must provision it, whatever the body says.
        val flow = Onboarding(plan(services = listOf(Service.Chat)))
        val ask = assertIs<Progress.AwaitingAdmin>(flow.advance(client))
        val genuine = sim.approveWithoutPosting(ask.url, "fabrikam")
        val flipped = forge(genuine.body) { root -> TestJson.obj(root)["containsTeamsTenantAdminAPI"] = true }
        assertEquals(CallbackOutcome.ACCEPTED, flow.handleCallback(client, genuine.url, flipped))
        complete(flow, "fabrikam")
        assertEquals(StepState.DONE, step(flow, "provision_tenant_admin_api").state)
        assertEquals(1, sim.requests().count { it.path == "/provisioning/provisionTenantAdminAPI" })
    }

    @Test
    fun `a forged body for a consent ask is never marked granted`(): Unit = runBlocking {
        val flow = Onboarding(plan())
        val registration = assertIs<Progress.AwaitingAdmin>(flow.advance(client))
        val signedIn = sim.approveWithoutPosting(registration.url, "contoso")
        assertEquals(CallbackOutcome.ACCEPTED, flow.handleCallback(client, signedIn.url, signedIn.body))
        val ask = assertIs<Progress.AwaitingAdmin>(flow.advance(client))
        assertEquals(ActionType.GetUserSyncConsent, ask.action)
        // Nobody approved the consent; the attacker posts the admin's registration body, with an
        // opaque token (the real one was seen already), to the consent ask's tagged redirect URL
        // (here read from a sign-in by tailspin's helpdesk, who is no Global Admin and grants nothing).
        val consentUrl = sim.approveWithoutPosting(ask.url, "tailspin").url
        val forged = forge(signedIn.body) { root -> authOf(root)["accessToken"] = "forged-opaque-consent-token" }
        assertEquals(CallbackOutcome.ACCEPTED, flow.handleCallback(client, consentUrl, forged))
        val again = assertIs<Progress.AwaitingAdmin>(flow.advance(client))
        assertEquals(ActionType.GetUserSyncConsent, again.action)
        assertNotEquals(ask.url, again.url)
        val status = step(flow, "user_sync_consent")
        assertNotEquals(StepState.DONE, status.state)
        assertTrue(assertNotNull(status.detail).contains("refused"), status.detail)
        assertEquals(0, consentsOf(flow.enterpriseId(), "GET_USER_SYNC_CONSENT"))
        // The genuine approval of the new ask is what marks it granted.
        val cb = sim.approveWithoutPosting(again.url, "contoso")
        assertEquals(CallbackOutcome.ACCEPTED, flow.handleCallback(client, cb.url, cb.body))
        assertIs<Progress.AwaitingAdmin>(flow.advance(client))
        assertEquals(StepState.DONE, step(flow, "user_sync_consent").state)
        assertEquals(1, consentsOf(flow.enterpriseId(), "GET_USER_SYNC_CONSENT"))
    }

    // 2. A replay with changed whitespace and key order.

    @Test
    fun `a replay with other whitespace and key order is a duplicate and changes nothing`(): Unit = runBlocking {
        val flow = Onboarding(plan())
        val ask = assertIs<Progress.AwaitingAdmin>(flow.advance(client))
        val cb = sim.approveWithoutPosting(ask.url, "contoso")
        assertEquals(CallbackOutcome.ACCEPTED, flow.handleCallback(client, cb.url, cb.body))
        val reformatted = TestJson.write(TestJson.parse(cb.body), indent = 2, reverseKeys = true, pad = " ")
        assertNotEquals(cb.body, reformatted)
        assertNotEquals(cb.body.replace(Regex("\\s"), ""), reformatted.replace(Regex("\\s"), ""), "the keys are reordered too")
        for (moment in listOf("before advance", "after advance")) {
            val json = flow.toJson()
            val revision = flow.revision()
            assertEquals(CallbackOutcome.DUPLICATE, flow.handleCallback(client, cb.url, reformatted), moment)
            assertEquals(CallbackOutcome.DUPLICATE, flow.handleCallback(client, cb.url, " $reformatted\n"), moment)
            assertEquals(json, flow.toJson(), moment)
            assertEquals(revision, flow.revision(), moment)
            assertIs<Progress.AwaitingAdmin>(flow.advance(client))
        }
    }

    // 3. A callback for an earlier ask.

    @Test
    fun `a callback for an earlier ask with another body is refused and changes nothing`(): Unit = runBlocking {
        val flow = Onboarding(plan())
        val first = assertIs<Progress.AwaitingAdmin>(flow.advance(client))
        val cb = sim.approveWithoutPosting(first.url, "contoso")
        assertEquals(CallbackOutcome.ACCEPTED, flow.handleCallback(client, cb.url, cb.body))
        val second = assertIs<Progress.AwaitingAdmin>(flow.advance(client))
        assertEquals(ActionType.GetUserSyncConsent, second.action)
        val changed = forge(cb.body) { root -> TestJson.obj(authOf(root), "userInfo")["displayableId"] = "someone-else@contoso.onmicrosoft.com" }
        val json = flow.toJson()
        val revision = flow.revision()
        val e = assertFailsWith<CttException.CallbackInvalid> { flow.handleCallback(client, cb.url, changed) }
        assertTrue(e.detail.contains("already answered"), e.detail)
        assertEquals(json, flow.toJson())
        assertEquals(revision, flow.revision())
        assertEquals(second, flow.progress(), "still asking for the second")
    }

    @Test
    fun `a callback for an ask superseded after a refusal is refused`(): Unit = runBlocking {
        val flow = Onboarding(plan())
        val first = assertIs<Progress.AwaitingAdmin>(flow.advance(client))
        val genuine = sim.approveWithoutPosting(first.url, "contoso")
        val forged = forge(genuine.body) { root -> authOf(root)["accessToken"] = "forged-opaque-access-token-0002" }
        assertEquals(CallbackOutcome.ACCEPTED, flow.handleCallback(client, genuine.url, forged))
        val second = assertIs<Progress.AwaitingAdmin>(flow.advance(client))
        assertNotEquals(first.url, second.url)
        // The first ask is gone: even its genuine body is refused, and nothing changes.
        val json = flow.toJson()
        val revision = flow.revision()
        assertFailsWith<CttException.CallbackInvalid> { flow.handleCallback(client, genuine.url, genuine.body) }
        assertEquals(json, flow.toJson())
        assertEquals(revision, flow.revision())
        assertNull(flow.tenantId())
    }

    // 4. A retired key.

    @Test
    fun `a retired key's URLs are refused saying so and a rotated ring still verifies them`(): Unit = runBlocking {
        val oldKey = "old-portal-callback-key-0123".toByteArray()
        val newKey = "new-portal-callback-key-4567".toByteArray()
        val oldClient = Fixtures.client(sim) { callbackKeys(CallbackKeys(oldKey, "old")) }
        val flow = Onboarding(plan())
        val ask = assertIs<Progress.AwaitingAdmin>(flow.advance(oldClient))
        val cb = sim.approveWithoutPosting(ask.url, "contoso")
        assertTrue(cb.url.contains("ctt_kid=old"), cb.url)

        val retiring = CallbackKeys(newKey, "new").retire("old")
        val json = flow.toJson()
        val e = assertFailsWith<CttException.CallbackInvalid> { flow.handleCallback(retiring, cb.url, cb.body) }
        assertTrue(e.detail.contains("retired"), e.detail)
        assertEquals(json, flow.toJson())
        assertTrue(assertFailsWith<CttException.CallbackInvalid> { verifyCallback(retiring, cb.url, cb.body) }.detail.contains("retired"))
        // A ring that does not know the key at all says so differently.
        val stranger = assertFailsWith<CttException.CallbackInvalid> { flow.handleCallback(CallbackKeys(newKey, "new"), cb.url, cb.body) }
        assertTrue(!stranger.detail.contains("retired"), stranger.detail)

        val rotated = CallbackKeys(newKey, "new").verifyAlso(oldKey, "old")
        assertEquals("new", rotated.signingKeyId())
        assertEquals(CallbackOutcome.ACCEPTED, flow.handleCallback(rotated, cb.url, cb.body))
        val newClient = Fixtures.client(sim) { callbackKeys(rotated) }
        val next = assertIs<Progress.AwaitingAdmin>(newClient.let { flow.advance(it) })
        val cb2 = sim.approveWithoutPosting(next.url, "contoso")
        assertTrue(cb2.url.contains("ctt_kid=new"), cb2.url)
        assertEquals(CallbackOutcome.ACCEPTED, flow.handleCallback(newClient, cb2.url, cb2.body))
        assertFailsWith<CttException.InvalidInput> { CallbackKeys(newKey, "new").retire("new") }
        assertFailsWith<CttException.InvalidInput> { rotated.verifyAlso(oldKey, "old") }
        assertFalse(rotated.toString().contains("portal-callback-key"), rotated.toString())
        oldClient.close()
        newClient.close()
    }

    // 5. Keys are bytes.

    @Test
    fun `random bytes work as a callback key, a string is its UTF-8 bytes, and short keys are refused`(): Unit = runBlocking {
        val random = ByteArray(32).also { SecureRandom().nextBytes(it) }
        random[0] = 0xFF.toByte() // never valid in UTF-8
        val bytesClient = Fixtures.client(sim) { callbackKey(random) }
        val flow = Onboarding(plan())
        val ask = assertIs<Progress.AwaitingAdmin>(flow.advance(bytesClient))
        val cb = sim.approveWithoutPosting(ask.url, "contoso")
        assertEquals(flow.id(), verifyCallback(CallbackKeys(random.copyOf()), cb.url, cb.body).flowId)
        val other = random.copyOf().also { it[31] = (it[31] + 1).toByte() }
        assertFailsWith<CttException.CallbackInvalid> { flow.handleCallback(CallbackKeys(other), cb.url, cb.body) }
        assertEquals(CallbackOutcome.ACCEPTED, flow.handleCallback(bytesClient, cb.url, cb.body))
        complete(flow, "contoso", bytesClient)

        // 8 characters, 16 bytes: long enough, because keys are measured in bytes.
        val text = "ключключ"
        assertEquals(16, text.toByteArray(Charsets.UTF_8).size)
        val textClient = Fixtures.client(sim) { callbackKey(text) }
        val flow2 = Onboarding(plan())
        val ask2 = assertIs<Progress.AwaitingAdmin>(flow2.advance(textClient))
        val cb2 = sim.approveWithoutPosting(ask2.url, "contoso")
        assertEquals(flow2.id(), verifyCallback(CallbackKeys(text.toByteArray(Charsets.UTF_8)), cb2.url, cb2.body).flowId)
        assertEquals(CallbackOutcome.ACCEPTED, flow2.handleCallback(CallbackKeys(text), cb2.url, cb2.body))

        for (short in listOf(ByteArray(15), "fifteen-bytes!!".toByteArray(), "ключключ".dropLast(1).toByteArray())) {
            val e = assertFailsWith<CttException.InvalidInput> { Client.builder().simulator(sim).callbackKey(short).build() }
            assertTrue(e.detail.contains("callback_key"), e.detail)
            assertFailsWith<CttException.InvalidInput> { CallbackKeys(short) }
        }
        assertFailsWith<CttException.InvalidInput> { Client.builder().simulator(sim).callbackKey("fifteen-bytes!!").build() }
        bytesClient.close()
        textClient.close()
    }

    // 6. Two flows with one name.

    @Test
    fun `a second flow with the same name gets conflict and is not bound to the first's enterprise`(): Unit = runBlocking {
        val name = Fixtures.uniqueName("Acme")
        val first = Onboarding(plan(name))
        val second = Onboarding(plan(name))
        assertIs<Progress.AwaitingAdmin>(first.advance(client))
        val firstId = assertNotNull(first.enterpriseId())
        repeat(2) {
            val e = assertFailsWith<CttException.Conflict> { second.advance(client) }
            assertTrue(e.detail.contains(name), e.detail)
            assertNull(second.enterpriseId())
            assertNotEquals(StepState.DONE, step(second, "create_enterprise").state)
        }
        assertEquals(listOf(firstId), sim.enterprises().filter { it.name == name }.map { it.id })
    }

    // 7. Two processes racing on one SQLite file.

    private fun worker(dir: File, name: String, role: String, db: File, vararg extra: String): Process {
        val java = Paths.get(System.getProperty("java.home"), "bin", "java").toString()
        val c = sim.credentials()
        val hex = key.toByteArray().joinToString("") { "%02x".format(it) }
        val command = listOf(
            java, "-cp", System.getProperty("java.class.path"), "dev.cttonboard.RaceWorker",
            role, db.path, sim.baseUrl(), c.clientId, c.clientSecret, c.username, c.password,
            c.enterpriseUsername, c.enterprisePassword, hex,
        ) + extra
        return ProcessBuilder(command)
            .redirectOutput(File(dir, "$name.out"))
            .redirectError(File(dir, "$name.err"))
            .start()
    }

    private fun finish(dir: File, name: String, process: Process): List<String> {
        assertTrue(process.waitFor(120, TimeUnit.SECONDS), "$name finished")
        val err = File(dir, "$name.err").readText()
        assertEquals(0, process.exitValue(), "$name failed: $err")
        return File(dir, "$name.out").readLines()
    }

    @Test
    fun `a callback racing an advance in another process is never lost, and each consent is granted once`(@TempDir tmp: Path): Unit = runBlocking {
        val dir = tmp.toFile()
        val db = File(dir, "flows.db")
        val consents = listOf(ActionType.GetContactsConsent, ActionType.GetCdrConsent, ActionType.GetCallRecordingConsent)
        val flows = List(2) { Onboarding(plan(Fixtures.uniqueName("Race"), listOf(Service.CallApp, Service.Sms), consents)) }
        FlowStore(db.path).use { store ->
            store.create()
            flows.forEach { store.insert(it) }
            val advancer = worker(dir, "advancer", "advancer", db)
            val applier = worker(dir, "applier", "applier", db)
            val approved = mutableSetOf<String>()
            val waiting = mutableMapOf<Long, SimCallback>()
            val pairs = mutableListOf<Pair<Long, Long>>()
            var rounds = 0
            var lost = 0
            val deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120)
            try {
                while (System.nanoTime() < deadline) {
                    val stored = flows.map { store.load(it.id()).first }
                    if (stored.all { it.isComplete() } && waiting.isEmpty()) break
                    // The admin acts on every new ask; the callback goes to the applier's queue.
                    for (flow in stored) {
                        val p = flow.progress()
                        if (p is Progress.AwaitingAdmin && approved.add(p.url)) {
                            val cb = sim.approveWithoutPosting(p.url, "contoso")
                            // Delivered twice (the admin's browser posted the form twice): the
                            // applier's two lanes take one each, at once.
                            val first = store.addCallback(cb.url, cb.body)
                            val second = store.addCallback(cb.url, cb.body)
                            waiting[first] = cb
                            waiting[second] = cb
                            pairs += first to second
                            rounds++
                        }
                    }
                    // An applied callback must be in the stored flow: applied again to a copy of
                    // what is stored, it is a duplicate (a lost one would be accepted, or refused
                    // if the flow had asked again).
                    for ((seq, cb) in waiting.entries.toList()) {
                        val outcome = store.outcome(seq) ?: continue
                        val id = assertNotNull(claimedFlowId(cb.url))
                        val copy = store.load(id).first
                        val again = try {
                            copy.handleCallback(client, cb.url, cb.body).name
                        } catch (e: CttException) {
                            "$e"
                        }
                        if (again != "DUPLICATE" || outcome !in setOf("accepted", "duplicate")) {
                            lost++
                            println("lost callback $seq ($outcome, then $again)")
                        }
                        waiting.remove(seq)
                    }
                    Thread.sleep(5)
                }
            } finally {
                store.stop()
            }
            val advanced = finish(dir, "advancer", advancer)
            val applied = finish(dir, "applier", applier)
            println("race: $rounds rounds; advancer $advanced; applier $applied")
            assertEquals(0, lost, "lost callbacks")
            // Of the two deliveries of one callback, exactly one was saved as accepted: the other
            // lost the compare-and-swap (or came later) and found it there, a duplicate.
            for ((first, second) in pairs) {
                val outcomes = listOf(store.outcome(first), store.outcome(second)).sortedBy { it }
                assertEquals(listOf("accepted", "duplicate"), outcomes, "deliveries $first and $second")
            }
            assertTrue(rounds >= 10, "$rounds rounds")
            assertTrue(advanced.none { it.startsWith("error=") }, advanced.toString())
            val done = flows.map { store.load(it.id()).first }
            assertTrue(done.all { it.isComplete() }, done.map { it.status() }.toString())
            val expected = listOf(
                "GET_USER_SYNC_CONSENT", "GET_PRESENCE_CONSENT", "GET_AGENT_CONSENT", "GET_CALL_APP_CONSENT",
                "GET_CONTACTS_CONSENT", "GET_CDR_CONSENT", "GET_CALL_RECORDING_CONSENT",
                "GET_SERVICE_PROVIDER_MANAGEMENT_CONSENT",
            )
            for (flow in done) {
                val granted = sim.consents().filter { it.enterpriseId == flow.enterpriseId() }.groupingBy { it.action }.eachCount()
                assertEquals(expected.sorted(), granted.keys.sorted(), "consents of ${flow.enterpriseId()}")
                assertTrue(granted.values.all { it == 1 }, "each consent granted once: $granted")
            }
        }
    }

    @Test
    fun `two processes advancing one stored flow send one create`(@TempDir tmp: Path): Unit = runBlocking {
        val dir = tmp.toFile()
        val db = File(dir, "flows.db")
        val flows = List(4) { Onboarding(plan(Fixtures.uniqueName("Twice"))) }
        FlowStore(db.path).use { store ->
            store.create()
            flows.forEach { store.insert(it) }
        }
        val ids = flows.joinToString(",") { it.id() }
        val startAt = (System.currentTimeMillis() + 4000).toString()
        val racers = List(2) { worker(dir, "racer$it", "racer", db, ids, startAt, "700") }
        val lines = racers.mapIndexed { i, p -> finish(dir, "racer$i", p) }.flatten()
        println("race: $lines")
        val creates = sim.requests().count { it.method == "POST" && it.path == "/reseller/newEnterprise" }
        assertEquals(flows.size, creates, "one create per flow")
        FlowStore(db.path).use { store ->
            for (flow in flows) {
                val name = flow.plan().enterprise.enterpriseName
                val held = sim.enterprises().filter { it.name == name }
                assertEquals(1, held.size, name)
                val reported = lines.filter { it.startsWith("flow=${flow.id()} ") }
                assertEquals(2, reported.size, reported.toString())
                assertTrue(reported.all { it.endsWith("enterprise=${held[0].id}") }, reported.toString())
                assertTrue(reported.all { " result=advanced " in it || " result=stale " in it }, reported.toString())
                assertEquals(held[0].id, store.load(flow.id()).first.enterpriseId())
            }
        }
    }

    // 8. A checkpoint that fails before the create.

    @Test
    fun `a checkpoint that fails before the create stops advance with nothing sent`(): Unit = runBlocking {
        val name = Fixtures.uniqueName("Unsaved")
        // CALLAPP needs the PBX types, a step saved before the create.
        val flow = Onboarding(plan(name, listOf(Service.CallApp, Service.Sms)))
        val saved = mutableListOf<Long>()
        val e = assertFailsWith<CttException.FlowState> {
            flow.advance(client) { snapshot, previous ->
                assertEquals(saved.lastOrNull() ?: 0L, previous)
                if (snapshot.toJson().contains("\"create\":{")) throw flowStateException("the test refuses the save before the create")
                saved += snapshot.revision()
            }
        }
        assertEquals("the test refuses the save before the create", e.detail)
        assertEquals(1, saved.size, "the PBX types were saved first")
        assertEquals(saved.last(), flow.revision(), "the revision is the last saved one")
        fun creates() = sim.requests().count { it.path == "/reseller/newEnterprise" }
        assertEquals(0, creates())
        assertEquals(0, sim.enterprises().count { it.name == name })
        assertNull(flow.enterpriseId())

        // Any other throwable fails it the same way (flow_state), and still nothing is sent.
        val other = assertFailsWith<CttException.FlowState> {
            flow.advance(client) { snapshot, _ -> if (snapshot.toJson().contains("\"create\":{")) throw AssertionError("disk full") }
        }
        assertTrue(other.detail.contains("disk full"), other.detail)
        assertEquals(saved.last(), flow.revision())
        assertEquals(0, creates())

        // The generated advanceWithCheckpoint, without the Kotlin guard: an exception still
        // arrives as FlowState (uniffi's unexpected-error path), and nothing is sent.
        val raw = assertFailsWith<CttException.FlowState> {
            flow.advanceWithCheckpoint(
                client,
                object : FlowCheckpoint {
                    override fun save(flow: Onboarding, previousRevision: Long) {
                        if (flow.toJson().contains("\"create\":{")) throw IllegalStateException("no space left")
                    }
                },
            )
        }
        assertTrue(raw.detail.contains("IllegalStateException: no space left"), raw.detail)
        assertEquals(0, creates())

        // The blocking twin with a checkpoint that saves: one create.
        val progress = flow.advanceBlocking(
            client,
            object : FlowCheckpoint {
                override fun save(flow: Onboarding, previousRevision: Long) {
                    saved += flow.revision()
                }
            },
        )
        assertIs<Progress.AwaitingAdmin>(progress)
        assertEquals(1, creates())
        assertEquals(flow.enterpriseId(), sim.enterprises().single { it.name == name }.id)
        assertEquals(flow.revision(), saved.last())
    }
}
