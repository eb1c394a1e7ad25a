package dev.cttonboard

import kotlinx.coroutines.runBlocking
import org.junit.jupiter.api.AfterEach
import org.junit.jupiter.api.BeforeEach
import org.junit.jupiter.api.Test
import java.time.Duration
import kotlin.test.assertEquals
import kotlin.test.assertFailsWith
import kotlin.test.assertFalse
import kotlin.test.assertIs
import kotlin.test.assertNotNull
import kotlin.test.assertTrue

/** The full flow for each simulator tenant, persistence, and callback checks. */
class FlowTest {
    private val key = "portal-callback-key-0123456789"
    private val thirtyOneMinutes = Duration.ofMinutes(31).toMillis()
    private lateinit var sim: Simulator
    private lateinit var clock: ManualClock
    private lateinit var client: Client

    @BeforeEach
    fun start() {
        sim = Simulator.start()
        clock = ManualClock()
        client = Fixtures.client(sim) { callbackKey(key).clock(clock) }
    }

    @AfterEach
    fun stop() {
        client.close()
        sim.close()
    }

    private fun plan(name: String, vararg services: Service) = OnboardingPlan(
        enterprise = NewEnterprise(enterpriseName = name, services = services.toList()),
        redirectUrl = Fixtures.REDIRECT,
        gatewayRegions = listOf("US-East"),
    )

    private fun passTime(ms: Long) {
        clock.advanceMs(ms)
        sim.advanceClockMs(ms)
    }

    private suspend fun approve(flow: Onboarding, url: String, tenant: String): CallbackOutcome {
        val cb = sim.approve(url, tenant)
        return flow.handleCallback(client, cb.url, cb.body)
    }

    /** Drives [flow] to completion as [tenant]'s admin; returns the actions asked for. */
    private suspend fun drive(start: Onboarding, tenant: String, persist: Boolean = false): Pair<Onboarding, List<String>> {
        var flow = start
        val actions = mutableListOf<String>()
        repeat(60) {
            val progress = flow.advance(client)
            if (persist) flow = Onboarding.fromJson(flow.toJson())
            when (progress) {
                is Progress.AwaitingAdmin -> {
                    actions += progress.action.wireName
                    assertEquals(CallbackOutcome.ACCEPTED, approve(flow, progress.url, tenant))
                    if (persist) flow = Onboarding.fromJson(flow.toJson())
                }
                is Progress.WaitingUntil -> passTime(thirtyOneMinutes)
                is Progress.Complete -> return flow to actions
            }
        }
        error("the flow did not complete: ${flow.status()}")
    }

    private fun state(flow: Onboarding, step: String) = flow.status().single { it.step == step }.state

    @Test
    fun `contoso completes`(): Unit = runBlocking {
        val name = Fixtures.uniqueName("Contoso")
        val flow = Onboarding(plan(name, Service.Pbx, Service.Sms))
        assertTrue(flow.status().all { it.state == StepState.PENDING || it.state == StepState.SKIPPED })
        val (done, actions) = drive(flow, "contoso")
        assertEquals(
            listOf(
                "REGISTRATION", "GET_USER_SYNC_CONSENT", "GET_PRESENCE_CONSENT", "GET_AGENT_CONSENT",
                "GET_SERVICE_PROVIDER_MANAGEMENT_CONSENT",
            ),
            actions,
        )
        assertTrue(done.isComplete())
        val tenant = simTenants().single { it.key == "contoso" }
        val progress = assertIs<Progress.Complete>(done.progress())
        assertEquals(tenant.tenantId, progress.tenantId)
        assertEquals(done.enterpriseId(), progress.enterpriseId)
        assertEquals(tenant.tenantId, done.tenantId())
        val held = sim.enterprises().single { it.name == name }
        assertEquals(held.id, progress.enterpriseId)
        assertTrue(held.managedByProvider)
        assertEquals(listOf(5678L), held.sbcGateways)
        assertEquals(listOf(1234L), held.pbxId)
        assertEquals(StepState.SKIPPED, state(done, "provision_tenant_admin_api"))
        assertEquals(StepState.SKIPPED, state(done, "call_app_consent"))
        assertEquals(StepState.DONE, state(done, "create_enterprise"))
        // Advancing a complete flow makes no call and returns Complete again.
        val before = sim.requests().size
        assertIs<Progress.Complete>(done.advance(client))
        assertEquals(before, sim.requests().size)
    }

    @Test
    fun `fabrikam gets the tenant admin api provisioned`(): Unit = runBlocking {
        val (done, _) = drive(Onboarding(plan(Fixtures.uniqueName("Fabrikam"), Service.Chat)), "fabrikam")
        assertTrue(done.isComplete())
        assertEquals(StepState.DONE, state(done, "provision_tenant_admin_api"))
        assertEquals(1, sim.requests().count { it.path == "/provisioning/provisionTenantAdminAPI" })
        assertEquals(StepState.SKIPPED, state(done, "sbc_gateways"))
    }

    @Test
    fun `northwind waits thirty minutes after the roles error, then completes`(): Unit = runBlocking {
        val flow = Onboarding(plan(Fixtures.uniqueName("Northwind"), Service.Sms))
        var progress = flow.advance(client)
        while (progress is Progress.AwaitingAdmin) {
            approve(flow, progress.url, "northwind")
            progress = flow.advance(client)
        }
        val waiting = assertIs<Progress.WaitingUntil>(progress)
        assertTrue(waiting.notBefore.isAfter(clock.now()))
        assertTrue(waiting.notBefore.isBefore(clock.now().plus(Duration.ofMinutes(31))))
        assertTrue(waiting.reason.contains("30 minutes"), waiting.reason)
        assertEquals(StepState.WAITING, state(flow, "management_consent_update"))
        // Before the time passes: still waiting, and no request is made.
        val before = sim.requests().size
        assertIs<Progress.WaitingUntil>(flow.advance(client))
        assertEquals(before, sim.requests().size)

        passTime(thirtyOneMinutes)
        val (done, actions) = drive(flow, "northwind")
        assertEquals(listOf("GET_SERVICE_PROVIDER_MANAGEMENT_CONSENT"), actions)
        assertIs<Progress.Complete>(done.progress())
        assertTrue(sim.enterprises().single { it.id == done.enterpriseId() }.managedByProvider)
    }

    @Test
    fun `tailspin registration is rejected as not a global admin`(): Unit = runBlocking {
        val flow = Onboarding(plan(Fixtures.uniqueName("Tailspin"), Service.Chat))
        val awaiting = assertIs<Progress.AwaitingAdmin>(flow.advance(client))
        assertEquals(ActionType.Registration, awaiting.action)
        val before = flow.toJson()
        val err = assertFailsWith<CttException.CallbackInvalid> { approve(flow, awaiting.url, "tailspin") }
        assertEquals("callback_invalid", err.code)
        assertTrue(err.detail.contains("not a Global Admin"), err.detail)
        assertTrue(err.detail.contains("helpdesk@tailspin.onmicrosoft.com"), err.detail)
        assertEquals(before, flow.toJson(), "state unchanged")
        // A Global Admin can still take the same URL.
        assertEquals(CallbackOutcome.ACCEPTED, approve(flow, awaiting.url, "contoso"))
    }

    @Test
    fun `a flow persisted to json after every call and resumed completes the same way`(): Unit = runBlocking {
        val start = Onboarding(plan(Fixtures.uniqueName("Persisted"), Service.Trunk, Service.Sms))
        val id = start.id()
        val (done, actions) = drive(start, "northwind", persist = true)
        assertEquals(id, done.id())
        assertTrue(done.isComplete())
        assertEquals("REGISTRATION", actions.first())
        assertEquals(2, actions.count { it == "GET_SERVICE_PROVIDER_MANAGEMENT_CONSENT" })
        val json = done.toJson()
        val again = Onboarding.fromJson(json)
        assertEquals(json, again.toJson())
        assertEquals(done.status(), again.status())
        assertEquals(done.plan(), again.plan())
    }

    @Test
    fun `callbacks are verified, duplicates reported, forgeries refused`(): Unit = runBlocking {
        val flow = Onboarding(plan(Fixtures.uniqueName("Verified"), Service.Sms))
        val awaiting = assertIs<Progress.AwaitingAdmin>(flow.advance(client))
        val cb = sim.approve(awaiting.url, "contoso")
        val verified = verifyCallback(client, cb.url, cb.body)
        assertEquals(flow.id(), verified.flowId)
        assertEquals(ActionType.Registration, verified.action)
        assertEquals(cb.url.substringAfter("ctt_nonce=").substringBefore('&'), verified.nonce)
        assertEquals(cb.url.substringAfter("ctt_iat=").substringBefore('&').toLong(), verified.issuedAt.epochSecond)
        assertEquals(flow.id(), claimedFlowId(cb.url))
        assertEquals(null, claimedFlowId(Fixtures.REDIRECT))
        assertTrue(verified.payload.isGlobalAdmin())
        assertFailsWith<CttException.CallbackInvalid> { verifyCallback(CallbackKeys("another-key-0123456789"), cb.url, cb.body) }
        assertFailsWith<CttException.CallbackInvalid> { verifyCallback(CallbackKeys(key), Fixtures.REDIRECT, cb.body) }
        val before = flow.toJson()
        assertFailsWith<CttException.CallbackInvalid> { flow.handleCallback(CallbackKeys("another-key-0123456789"), cb.url, cb.body) }
        assertEquals(before, flow.toJson())
        assertEquals(CallbackOutcome.ACCEPTED, flow.handleCallback(client, cb.url, cb.body))
        assertEquals(CallbackOutcome.DUPLICATE, flow.handleCallback(client, cb.url, cb.body))
        // Accepted offline, not yet relied on: advance confirms the sign-in with ConnecttoTeams first.
        assertEquals(StepState.WAITING, state(flow, "registration"))
        assertTrue(flow.hasUnconfirmedCallback())
        assertEquals(null, flow.tenantId())
        // Saved without tokens, the unconfirmed callback (its tokens) is not kept.
        val token = CallbackPayload.parse(cb.body).authenticationResult().toJson()
            .substringAfter("\"accessToken\":\"").substringBefore('"')
        assertTrue(flow.toJson().contains(token))
        assertFalse(flow.toJsonWithoutTokens().contains(token))
        assertFalse(Onboarding.fromJson(flow.toJsonWithoutTokens()).hasUnconfirmedCallback())
        assertIs<Progress.AwaitingAdmin>(flow.advance(client))
        assertEquals(StepState.DONE, state(flow, "registration"))
        assertFalse(flow.hasUnconfirmedCallback())
        assertEquals(simTenants().single { it.key == "contoso" }.tenantId, flow.tenantId())
    }

    @Test
    fun `plans and clients are checked`(): Unit = runBlocking {
        val bad = assertFailsWith<CttException.InvalidInput> {
            Onboarding(plan("", Service.Sms))
        }
        assertTrue(bad.detail.contains("enterpriseName"), bad.detail)
        assertFailsWith<CttException.InvalidInput> {
            Onboarding(plan(Fixtures.uniqueName(), Service.Sms).copy(redirectUrl = "http://portal.example/cb"))
        }
        val noKey = Fixtures.client(sim)
        val flow = Onboarding(plan(Fixtures.uniqueName("NoKey"), Service.Sms))
        val e = assertFailsWith<CttException.InvalidInput> { flow.advance(noKey) }
        assertTrue(e.detail.contains("callback key"), e.detail)
        noKey.close()
        assertFailsWith<CttException.InvalidInput> { Onboarding.fromJson("not json") }
        assertFalse(flow.isComplete())
        assertNotNull(flow.status().single { it.step == "registration" }.action)
    }

    @Test
    fun `the blocking twin drives the flow too`() {
        val flow = Onboarding(plan(Fixtures.uniqueName("Blocking"), Service.Chat))
        val awaiting = assertIs<Progress.AwaitingAdmin>(flow.advanceBlocking(client))
        val cb = sim.approveBlocking(awaiting.url, "contoso")
        assertEquals(CallbackOutcome.ACCEPTED, flow.handleCallback(client, cb.url, cb.body))
        val next = assertIs<Progress.AwaitingAdmin>(flow.advanceBlocking(client))
        assertEquals(ActionType.GetUserSyncConsent, next.action)
        assertFalse(flow.toString().contains(key))
    }
}
