package dev.cttonboard

import kotlinx.coroutines.runBlocking
import org.junit.jupiter.api.AfterAll
import org.junit.jupiter.api.BeforeAll
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.TestInstance
import kotlin.test.assertEquals
import kotlin.test.assertFalse
import kotlin.test.assertNotNull
import kotlin.test.assertNull
import kotlin.test.assertTrue

/** Every client method against the simulator. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ClientTest {
    private lateinit var sim: Simulator
    private lateinit var client: Client

    @BeforeAll
    fun start() {
        sim = Simulator.start()
        client = Fixtures.client(sim)
    }

    @AfterAll
    fun stop() {
        client.close()
        sim.close()
    }

    @Test
    fun `authenticated user and reseller id`(): Unit = runBlocking {
        val user = client.authenticatedUser()
        assertEquals(sim.credentials().username, user.username)
        assertEquals("RESELLER", user.userType)
        assertEquals(sim.resellerId(), user.resellerId)
        assertTrue(user.extraJson.startsWith("{"))
        assertEquals(sim.resellerId(), client.resellerId())
    }

    @Test
    fun `gateways and pbx types`(): Unit = runBlocking {
        val rid = client.resellerId()
        val gateways = client.sbcGateways(rid)
        assertEquals(listOf("US-East", "US-West", "EU-West"), gateways.map { it.sbcGatewayRegion })
        assertEquals(5678L, gateways.first().sbcGatewayId)
        val pbx = client.pbxTypes(rid)
        val default = pbx.single { it.isDefault }
        assertEquals(1234L, default.id)
        assertEquals("Example PBX", default.pbxName)
        assertTrue(pbx.any { it.isDisabled })
    }

    @Test
    fun `create, list and find an enterprise`(): Unit = runBlocking {
        val rid = client.resellerId()
        val name = Fixtures.uniqueName("Contoso")
        val body = NewEnterprise(
            enterpriseName = name,
            services = listOf(Service.Pbx, Service.Sms),
            sbcGateways = listOf(5678L),
            pbxId = listOf(1234L),
            restrictAdminAccess = true,
            countryName = "US",
        )
        val id = client.createEnterprise(body)
        assertTrue(id > 0)
        val held = sim.enterprises().single { it.id == id }
        assertEquals(name, held.name)
        assertEquals(listOf("PBX", "SMS"), held.services)
        assertTrue(held.restrictAdminAccess)
        assertTrue(client.enterprises(rid).any { it.enterpriseId == id && it.enterpriseName == name })
        assertEquals(EnterpriseSummary(id, name, billingReferences = emptyList()), client.findEnterprise(rid, name))
        assertNull(client.findEnterprise(rid, Fixtures.uniqueName("Nobody")))
    }

    @Test
    fun `action item url, approval and the provisioning calls`(): Unit = runBlocking {
        val rid = client.resellerId()
        val name = Fixtures.uniqueName("Fabrikam")
        client.createEnterprise(Fixtures.smsEnterprise(name))
        val url = client.actionItemUrl(ActionType.Registration, name, Fixtures.REDIRECT)
        assertTrue(url.startsWith("http"), url)

        val callback = sim.approve(url, "fabrikam")
        assertEquals(Fixtures.REDIRECT, callback.url)
        val payload = CallbackPayload.parse(callback.body)
        assertTrue(payload.isGlobalAdmin())
        assertEquals("GLOBAL_ADMIN", payload.officeUserType())
        assertEquals(false, payload.containsTeamsTenantAdminApi())
        val tenantId = simTenants().single { it.key == "fabrikam" }.tenantId
        assertEquals(tenantId, payload.tenantId())
        val auth = payload.authenticationResult()
        assertTrue(auth.hasAccessToken())
        assertEquals(tenantId, auth.tenantId())
        assertNotNull(auth.expiresAt())

        assertFalse(client.o365UserInfo(auth).containsTeamsTenantAdminApi)
        client.provisionTenantAdminApi(auth)
        assertTrue(client.o365UserInfo(auth).containsTeamsTenantAdminApi)

        val consentUrl = client.actionItemUrl(ActionType.GetServiceProviderManagementConsent, name, Fixtures.REDIRECT)
        val consent = CallbackPayload.parse(sim.approve(consentUrl, "fabrikam").body)
        client.updateManagementConsent(consent.authenticationResult(), rid, tenantId)
        assertTrue(sim.enterprises().single { it.name == name }.managedByProvider)
        assertTrue(sim.consents().any { it.action == "GET_SERVICE_PROVIDER_MANAGEMENT_CONSENT" && it.tenantId == tenantId })
    }

    @Test
    fun `client reports its configuration without secrets`() {
        assertEquals(sim.baseUrl().trimEnd('/') + "/", client.baseUrl().trimEnd('/') + "/")
        assertTrue(client.hasEnterpriseAuth())
        assertFalse(Client.builder().baseUrl(sim.baseUrl()).build().use { it.hasEnterpriseAuth() })
        assertTrue(client.toString().contains("127.0.0.1"))
    }

    @Test
    fun `token is fetched once and reused`(): Unit = runBlocking {
        val fresh = Fixtures.client(sim)
        val before = sim.tokenRequests("reseller")
        fresh.resellerId()
        fresh.sbcGateways(sim.resellerId())
        fresh.pbxTypes(sim.resellerId())
        assertEquals(before + 1, sim.tokenRequests("reseller"))
        fresh.close()
    }
}
