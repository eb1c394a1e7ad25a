package dev.cttonboard

import org.junit.jupiter.api.Test
import kotlin.test.assertEquals
import kotlin.test.assertFailsWith
import kotlin.test.assertTrue

/** Open enums, create bodies and their validation. */
class ModelsTest {
    @Test
    fun `open enums keep unknown values`() {
        assertEquals("CALLAPP", Service.CallApp.wireName)
        assertEquals(Service.Pbx, serviceFromWire("PBX"))
        assertEquals(Service.Other("FAX"), serviceFromWire("FAX"))
        assertEquals("FAX", Service.Other("FAX").wireName)
        assertEquals("GET_SERVICE_PROVIDER_MANAGEMENT_CONSENT", ActionType.GetServiceProviderManagementConsent.wireName)
        assertEquals(ActionType.Other("NEW_THING"), actionTypeFromWire("NEW_THING"))
        assertEquals(ActionType.Registration, actionTypeFromWire("REGISTRATION"))
    }

    @Test
    fun `create bodies use the wire names`() {
        val body = NewEnterprise(
            enterpriseName = "Acme",
            services = listOf(Service.Pbx, Service.Other("FAX")),
            sbcGateways = listOf(5678),
            pbxId = listOf(1234),
            restrictAdminAccess = true,
            entConfigInfos = listOf(EntConfigInfo(configDetails = ConfigDetails(name = "n", configType = "t"), value = "v")),
        )
        val json = body.toJson()
        assertTrue(json.contains("\"enterpriseName\":\"Acme\""), json)
        assertTrue(json.contains("\"services\":[\"PBX\",\"FAX\"]"), json)
        assertTrue(json.contains("\"sbcGateways\":[5678]"), json)
        assertTrue(json.contains("\"pbxId\":[1234]"), json)
        assertTrue(json.contains("\"restrictAdminAccess\":true"), json)
        assertTrue(json.contains("\"type\":\"t\""), json)
        assertTrue(!json.contains("countryName"), json)
        body.validate()
    }

    @Test
    fun `validation names the field`() {
        val cases = listOf(
            NewEnterprise(enterpriseName = " ", services = listOf(Service.Sms)) to "enterpriseName",
            NewEnterprise(enterpriseName = "A", services = listOf()) to "services",
            NewEnterprise(enterpriseName = "A", services = listOf(Service.Trunk)) to "sbcGateways",
            NewEnterprise(enterpriseName = "A", services = listOf(Service.CallApp)) to "pbxId",
            NewEnterprise(enterpriseName = "A", services = listOf(Service.Other("bad value"))) to "services",
        )
        for ((body, field) in cases) {
            val e = assertFailsWith<CttException.InvalidInput> { body.validate() }
            assertTrue(e.detail.contains(field), "${e.detail} should name $field")
            assertEquals("invalid_input", e.code)
        }
    }

    @Test
    fun `records are data classes`() {
        val a = SbcGateway(5678, "US-East")
        assertEquals(a, a.copy())
        assertEquals("SbcGateway(sbcGatewayId=5678, sbcGatewayRegion=US-East)", a.toString())
        assertEquals(null, RetryOptions().maxAttempts, "unset: core's default (4) applies")
        assertEquals(true, OnboardingPlan(NewEnterprise("A", listOf(Service.Sms)), "https://x.example/cb").serviceProviderManagement)
    }
}
