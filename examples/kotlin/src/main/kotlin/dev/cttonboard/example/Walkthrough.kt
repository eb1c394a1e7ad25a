// The onboarding of one enterprise against the embedded simulator, printing each step: what a
// portal does, with the simulator's "contoso" Global Admin clicking the links.
package dev.cttonboard.example

import dev.cttonboard.Client
import dev.cttonboard.NewEnterprise
import dev.cttonboard.Onboarding
import dev.cttonboard.OnboardingPlan
import dev.cttonboard.Progress
import dev.cttonboard.Service
import dev.cttonboard.Simulator
import dev.cttonboard.builder
import dev.cttonboard.callbackKey
import dev.cttonboard.handleCallback
import dev.cttonboard.simulator
import dev.cttonboard.wireName
import kotlinx.coroutines.runBlocking

/** The portal's secret for tagging and checking callback URLs (from its configuration in real life). */
private const val CALLBACK_KEY = "example-portal-callback-key-0001"

fun main(): Unit = runBlocking {
    Simulator.start().use { sim ->
        println("simulator listening on ${sim.baseUrl()}")
        Client.builder().simulator(sim).callbackKey(CALLBACK_KEY).build().use { client ->
            val rid = client.resellerId()
            println("reseller $rid offers gateways ${client.sbcGateways(rid).map { it.sbcGatewayRegion }}")

            val plan = OnboardingPlan(
                enterprise = NewEnterprise(
                    enterpriseName = "Contoso Pharmaceuticals",
                    services = listOf(Service.Pbx, Service.Sms),
                    restrictAdminAccess = true,
                ),
                redirectUrl = "https://portal.example/ctt/callback",
                gatewayRegions = listOf("US-East"),
            )
            var flow = Onboarding(plan)
            while (true) {
                when (val progress = flow.advance(client)) {
                    is Progress.AwaitingAdmin -> {
                        println("ask the Global Admin to ${progress.action.wireName}: ${progress.url}")
                        val callback = sim.approve(progress.url, "contoso")
                        println("  callback: ${flow.handleCallback(client, callback.url, callback.body)}")
                        // A portal stores the flow between requests and resumes it later.
                        flow = Onboarding.fromJson(flow.toJson())
                    }
                    is Progress.WaitingUntil -> error("contoso never waits: ${progress.reason}")
                    is Progress.Complete -> {
                        println("complete: enterprise ${progress.enterpriseId}, tenant ${progress.tenantId}")
                        break
                    }
                }
            }
            for (step in flow.status()) println("  %-8s %s".format(step.state.name.lowercase(), step.title))
            check(flow.isComplete()) { "the flow did not complete" }
        }
    }
}
