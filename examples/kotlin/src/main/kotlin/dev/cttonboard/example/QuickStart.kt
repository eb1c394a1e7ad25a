// The README's "ten lines": one flow against the embedded simulator, the admin approving each link.
package dev.cttonboard.example

import dev.cttonboard.*
import kotlinx.coroutines.runBlocking

fun quickStart(): Unit = runBlocking {
    val key = "my-portal-callback-key-123"
    Simulator.start().use { sim ->
        val client = Client.builder().simulator(sim).callbackKey(key).build()
        val flow = Onboarding(OnboardingPlan(NewEnterprise("Contoso", listOf(Service.Sms)), "https://portal.example/cb"))
        while (true) when (val p = flow.advance(client)) {
            is Progress.AwaitingAdmin -> sim.approve(p.url, "contoso").let { flow.handleCallback(client, it.url, it.body) }
            is Progress.WaitingUntil -> error("wait until ${p.notBefore}")
            is Progress.Complete -> { println("enterprise ${p.enterpriseId} onboarded in tenant ${p.tenantId}"); break }
        }
    }
}

fun main() = quickStart()
