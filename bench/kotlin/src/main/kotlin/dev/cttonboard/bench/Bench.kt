// The Kotlin/JVM cases of the benchmarks; each invocation prints one JSON object.
// The simulator's JSON line is in CTT_SIM (the driver, bench/run.py, starts ctt-sim).
//
//   java -cp ... dev.cttonboard.bench.BenchKt latency --warmup 2000 --n 2000
//   java -cp ... dev.cttonboard.bench.BenchKt bulk --n 10000 --concurrency 64
//   java -cp ... dev.cttonboard.bench.BenchKt singleflight --n 1000
//   java -cp ... dev.cttonboard.bench.BenchKt coldstart
//   java -cp ... dev.cttonboard.bench.BenchKt overhead --warmup 2000 --n 2000
//
// The hand-written baseline is the JDK's java.net.http.HttpClient (HTTP/1.1, one client): a
// password grant, then one request per call, reading the body as a String (the JDK has no JSON
// parser, so the baseline does less work than the binding, which decodes into data classes).
package dev.cttonboard.bench

import dev.cttonboard.ActionType
import dev.cttonboard.Client
import dev.cttonboard.NewEnterprise
import dev.cttonboard.Service
import dev.cttonboard.blocking
import dev.cttonboard.builder
import kotlinx.coroutines.async
import kotlinx.coroutines.awaitAll
import kotlinx.coroutines.coroutineScope
import kotlinx.coroutines.launch
import kotlinx.coroutines.runBlocking
import java.lang.management.ManagementFactory
import java.net.URI
import java.net.URLEncoder
import java.net.http.HttpClient
import java.net.http.HttpRequest
import java.net.http.HttpResponse
import java.util.Base64
import java.util.concurrent.atomic.AtomicInteger

private const val REDIRECT = "https://portal.example/ctt/callback"

/** The fields of ctt-sim's JSON line (flat strings and one number: a regex is enough). */
private class Sim(private val line: String) {
    private fun str(key: String): String =
        Regex("\"$key\"\\s*:\\s*\"([^\"]*)\"").find(line)?.groupValues?.get(1)
            ?: error("CTT_SIM has no $key")

    val baseUrl = str("base_url").trimEnd('/')
    val clientId = str("client_id")
    val clientSecret = str("client_secret")
    val username = str("username")
    val password = str("password")
    val resellerId: Long = Regex("\"reseller_id\"\\s*:\\s*(\\d+)").find(line)?.groupValues?.get(1)?.toLong()
        ?: error("CTT_SIM has no reseller_id")

    fun client(): Client = Client.builder()
        .baseUrl(baseUrl)
        .reseller(clientId, clientSecret, username, password)
        .resellerId(resellerId)
        .build()
}

private fun sim(): Sim = Sim(System.getenv("CTT_SIM") ?: error("CTT_SIM must hold ctt-sim's JSON line"))

private fun arg(args: Array<String>, name: String, default: Int): Int {
    val i = args.indexOf(name)
    return if (i >= 0) args[i + 1].toInt() else default
}

private fun json(v: Any?): String = when (v) {
    null -> "null"
    is String -> "\"" + v.replace("\\", "\\\\").replace("\"", "\\\"") + "\""
    is Number, is Boolean -> v.toString()
    is Map<*, *> -> v.entries.joinToString(",", "{", "}") { json(it.key.toString()) + ":" + json(it.value) }
    is Iterable<*> -> v.joinToString(",", "[", "]") { json(it) }
    is DoubleArray -> v.joinToString(",", "[", "]")
    else -> json(v.toString())
}

private fun peakRssKb(): Long =
    java.io.File("/proc/self/status").readLines().firstOrNull { it.startsWith("VmHWM:") }
        ?.split(Regex("\\s+"))?.get(1)?.toLong() ?: 0L

private inline fun timeCalls(warmup: Int, n: Int, call: () -> Unit): DoubleArray {
    repeat(warmup) { call() }
    val out = DoubleArray(n)
    for (i in 0 until n) {
        val t = System.nanoTime()
        call()
        out[i] = (System.nanoTime() - t) / 1000.0
    }
    return out
}

private fun jdkToken(http: HttpClient, s: Sim): String {
    val basic = Base64.getEncoder().encodeToString("${s.clientId}:${s.clientSecret}".toByteArray())
    fun enc(v: String) = URLEncoder.encode(v, Charsets.UTF_8)
    val form = "grant_type=password&username=${enc(s.username)}&password=${enc(s.password)}"
    val request = HttpRequest.newBuilder(URI.create("${s.baseUrl}/oauth/token"))
        .header("Authorization", "Basic $basic")
        .header("Content-Type", "application/x-www-form-urlencoded")
        .POST(HttpRequest.BodyPublishers.ofString(form))
        .build()
    val body = http.send(request, HttpResponse.BodyHandlers.ofString()).body()
    return Regex("\"access_token\"\\s*:\\s*\"([^\"]+)\"").find(body)?.groupValues?.get(1)
        ?: error("no access_token")
}

private fun latency(warmup: Int, n: Int): String = runBlocking {
    val s = sim()
    val results = mutableListOf<Map<String, Any>>()
    fun add(impl: String, op: String, samples: DoubleArray) {
        results += mapOf("lang" to "kotlin", "impl" to impl, "op" to op, "samples_us" to samples)
    }
    val name = "Kotlin Latency ${ProcessHandle.current().pid()}"
    s.client().use { client ->
        client.createEnterprise(NewEnterprise(enterpriseName = name, services = listOf(Service.Sms)))
        add("Client", "sbc_gateways", timeCalls(warmup, n) { client.sbcGateways(s.resellerId) })
        add("Client", "action_item_url", timeCalls(warmup, n) {
            client.actionItemUrl(ActionType.Registration, name, REDIRECT)
        })
    }
    val http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build()
    val token = jdkToken(http, s)
    val gw = HttpRequest.newBuilder(URI.create("${s.baseUrl}/reseller/getAvailableSBCGatewayRegionsByResellerId/${s.resellerId}"))
        .header("Authorization", "Bearer $token").GET().build()
    val body = """{"actionType":"REGISTRATION","enterpriseName":"$name","redirectUrl":"$REDIRECT"}"""
    val aiu = HttpRequest.newBuilder(URI.create("${s.baseUrl}/enterprise/getActionItemUrl"))
        .header("Authorization", "Bearer $token").header("Content-Type", "application/json")
        .POST(HttpRequest.BodyPublishers.ofString(body)).build()
    fun send(r: HttpRequest): String {
        val answer = http.send(r, HttpResponse.BodyHandlers.ofString())
        check(answer.statusCode() == 200) { "status ${answer.statusCode()}" }
        return answer.body()
    }
    add("java.net.http.HttpClient", "sbc_gateways", timeCalls(warmup, n) { send(gw) })
    add("java.net.http.HttpClient", "action_item_url", timeCalls(warmup, n) { send(aiu) })
    json(mapOf("case" to "latency", "results" to results))
}

/**
 * The binding's own cost per call, without HTTP: a sync export (`baseUrl`: one downcall and a
 * string back), and an async one that answers without a request (`resellerId`, given to the
 * builder), awaited from a coroutine and through the blocking twin. The async rows are what every
 * `latency` call pays on top of the core client's time: the JNA downcalls (call, polls, complete,
 * free), the hand-over to the binding's tokio runtime and back, and the continuation callback.
 */
private fun overhead(warmup: Int, n: Int): String = runBlocking {
    val s = sim()
    val results = mutableListOf<Map<String, Any>>()
    fun add(impl: String, op: String, samples: DoubleArray) {
        results += mapOf("lang" to "kotlin", "impl" to impl, "op" to op, "samples_us" to samples)
    }
    s.client().use { client ->
        add("Client (sync export)", "base_url", timeCalls(warmup, n) { client.baseUrl() })
        add("Client (suspend, no IO)", "reseller_id", timeCalls(warmup, n) { client.resellerId() })
        val blocking = client.blocking()
        add("BlockingClient (no IO)", "reseller_id", timeCalls(warmup, n) { blocking.resellerId() })
    }
    json(mapOf("case" to "overhead", "results" to results))
}

private fun bulk(n: Int, concurrency: Int): String = runBlocking {
    val s = sim()
    val prefix = "Kotlin Bulk ${ProcessHandle.current().pid()}"
    s.client().use { client ->
        client.sbcGateways(s.resellerId) // the token, outside the timing
        val next = AtomicInteger(0)
        val t = System.nanoTime()
        coroutineScope {
            repeat(concurrency) {
                launch {
                    while (true) {
                        val i = next.getAndIncrement()
                        if (i >= n) break
                        val name = "$prefix $i"
                        client.createEnterprise(
                            NewEnterprise(
                                enterpriseName = name,
                                services = listOf(Service.Sms, Service.Chat),
                                restrictAdminAccess = true,
                            ),
                        )
                        client.actionItemUrl(ActionType.Registration, name, REDIRECT)
                    }
                }
            }
        }
        val seconds = (System.nanoTime() - t) / 1e9
        json(
            mapOf(
                "case" to "bulk", "lang" to "kotlin", "impl" to "Client", "n" to n,
                "concurrency" to concurrency, "seconds" to seconds, "peak_rss_kb" to peakRssKb(),
            ),
        )
    }
}

private fun tokenRequests(s: Sim): Long {
    val http = HttpClient.newHttpClient()
    val body = http.send(
        HttpRequest.newBuilder(URI.create("${s.baseUrl}/_sim/state")).GET().build(),
        HttpResponse.BodyHandlers.ofString(),
    ).body()
    return Regex("\"reseller\"\\s*:\\s*(\\d+)").find(body)?.groupValues?.get(1)?.toLong() ?: -1
}

private fun singleflight(n: Int): String = runBlocking {
    val s = sim()
    val before = tokenRequests(s)
    var failed = 0
    s.client().use { client ->
        val calls = (1..n).map { async { runCatching { client.sbcGateways(s.resellerId) } } }
        failed = calls.awaitAll().count { it.isFailure }
    }
    val after = tokenRequests(s)
    json(
        mapOf(
            "case" to "singleflight", "lang" to "kotlin", "impl" to "Client", "calls" to n,
            "failed" to failed, "token_requests" to after - before,
        ),
    )
}

/** The first call of a fresh JVM: client built (the native library loaded) and one call answered. */
private fun coldstart(): String = runBlocking {
    val s = sim()
    val t = System.nanoTime()
    val client = s.client()
    val built = (System.nanoTime() - t) / 1e6
    client.sbcGateways(s.resellerId)
    val first = (System.nanoTime() - t) / 1e6
    client.close()
    json(
        mapOf(
            "case" to "coldstart", "lang" to "kotlin", "build_ms" to built, "first_call_ms" to first,
            "jvm_uptime_ms" to ManagementFactory.getRuntimeMXBean().uptime,
        ),
    )
}

fun main(args: Array<String>) {
    val out = when (args.firstOrNull()) {
        "latency" -> latency(arg(args, "--warmup", 2000), arg(args, "--n", 2000))
        "bulk" -> bulk(arg(args, "--n", 10_000), arg(args, "--concurrency", 64))
        "singleflight" -> singleflight(arg(args, "--n", 1000))
        "coldstart" -> coldstart()
        "overhead" -> overhead(arg(args, "--warmup", 2000), arg(args, "--n", 2000))
        else -> error("unknown case ${args.firstOrNull()}: latency | bulk | singleflight | coldstart | overhead")
    }
    println(out)
}
