// The Kotlin/JVM cases of the benchmarks; each invocation prints one JSON object.
// The simulator's JSON line is in CTT_SIM (the driver, bench/run.py, starts ctt-sim).
//
//   java -cp ... dev.cttonboard.bench.BenchKt latency --warmup 2000 --n 2000 --blocks 4
//   java -cp ... dev.cttonboard.bench.BenchKt bulk --impl ctt|jdk|okhttp --n 10000 --concurrency 64
//   java -cp ... dev.cttonboard.bench.BenchKt singleflight --n 1000
//   java -cp ... dev.cttonboard.bench.BenchKt coldstart
//
// The hand-written baselines are the JDK's java.net.http.HttpClient (HTTP/1.1, one client;
// `send` for latency, `sendAsync` for bulk) and OkHttp (one OkHttpClient; `execute` for latency,
// `enqueue` for bulk, its dispatcher and connection pool sized to the concurrency): a password
// grant, then one request per call, reading the body as a String (the JDK has no JSON parser, and
// OkHttp none built in, so the baselines do less work than the binding, which decodes into data
// classes).
//
// Latency interleaves the implementations in one process: each is warmed up, then --blocks rounds
// run n / blocks calls of each in turn (A B C A B C ...), so drift lands on all of them alike. The
// no-IO probes of the per-call breakdown (`probes`) take their turns in the same blocks.
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
import okhttp3.Call
import okhttp3.Callback
import okhttp3.ConnectionPool
import okhttp3.Dispatcher
import okhttp3.MediaType.Companion.toMediaType
import okhttp3.OkHttpClient
import okhttp3.Request
import okhttp3.RequestBody.Companion.toRequestBody
import okhttp3.Response
import java.io.IOException
import java.util.Base64
import java.util.concurrent.CompletableFuture
import java.util.concurrent.CountDownLatch
import java.util.concurrent.TimeUnit
import java.util.concurrent.atomic.AtomicInteger
import java.util.concurrent.atomic.AtomicReference

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

private fun argStr(args: Array<String>, name: String, default: String): String {
    val i = args.indexOf(name)
    return if (i >= 0) args[i + 1] else default
}

private val JSON_TYPE = "application/json".toMediaType()

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

/** `k` samples of `call`, each the mean microseconds of `batch` calls. */
private suspend fun timeSuspend(k: Int, call: suspend () -> Unit, batch: Int = 1): DoubleArray {
    val out = DoubleArray(k)
    for (i in 0 until k) {
        val t = System.nanoTime()
        repeat(batch) { call() }
        out[i] = (System.nanoTime() - t) / 1000.0 / batch
    }
    return out
}

private fun okToken(http: OkHttpClient, s: Sim): String {
    val basic = Base64.getEncoder().encodeToString("${s.clientId}:${s.clientSecret}".toByteArray())
    val form = okhttp3.FormBody.Builder()
        .add("grant_type", "password").add("username", s.username).add("password", s.password)
        .build()
    val request = Request.Builder().url("${s.baseUrl}/oauth/token")
        .header("Authorization", "Basic $basic").post(form).build()
    val body = http.newCall(request).execute().use { it.body.string() }
    return Regex("\"access_token\"\\s*:\\s*\"([^\"]+)\"").find(body)?.groupValues?.get(1)
        ?: error("no access_token")
}

private fun okSend(http: OkHttpClient, r: Request): String =
    http.newCall(r).execute().use { answer ->
        check(answer.code == 200) { "status ${answer.code}" }
        answer.body.string()
    }

private fun latency(warmup: Int, n: Int, blocks: Int): String = runBlocking {
    val s = sim()
    val name = "Kotlin Latency ${ProcessHandle.current().pid()}"
    val client = s.client()
    client.createEnterprise(NewEnterprise(enterpriseName = name, services = listOf(Service.Sms)))

    val http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build()
    val token = jdkToken(http, s)
    val gwUrl = "${s.baseUrl}/reseller/getAvailableSBCGatewayRegionsByResellerId/${s.resellerId}"
    val aiuUrl = "${s.baseUrl}/enterprise/getActionItemUrl"
    val gw = HttpRequest.newBuilder(URI.create(gwUrl)).header("Authorization", "Bearer $token").GET().build()
    val body = """{"actionType":"REGISTRATION","enterpriseName":"$name","redirectUrl":"$REDIRECT"}"""
    val aiu = HttpRequest.newBuilder(URI.create(aiuUrl))
        .header("Authorization", "Bearer $token").header("Content-Type", "application/json")
        .POST(HttpRequest.BodyPublishers.ofString(body)).build()
    fun send(r: HttpRequest): String {
        val answer = http.send(r, HttpResponse.BodyHandlers.ofString())
        check(answer.statusCode() == 200) { "status ${answer.statusCode()}" }
        return answer.body()
    }

    val ok = OkHttpClient()
    val okTok = okToken(ok, s)
    val okGw = Request.Builder().url(gwUrl).header("Authorization", "Bearer $okTok").get().build()
    val okAiu = Request.Builder().url(aiuUrl).header("Authorization", "Bearer $okTok")
        .post(body.toRequestBody(JSON_TYPE)).build()

    val gateways = client.sbcGateways(s.resellerId)
    val impls: List<Triple<String, String, suspend () -> Unit>> = probes(client, gateways) + listOf(
        Triple("Client", "sbc_gateways") { client.sbcGateways(s.resellerId) },
        Triple("Client", "action_item_url") { client.actionItemUrl(ActionType.Registration, name, REDIRECT) },
        Triple("java.net.http.HttpClient", "sbc_gateways") { send(gw) },
        Triple("java.net.http.HttpClient", "action_item_url") { send(aiu) },
        Triple("OkHttp", "sbc_gateways") { okSend(ok, okGw) },
        Triple("OkHttp", "action_item_url") { okSend(ok, okAiu) },
    )
    // Warm-up in calls, for a probe as for a request: the JIT needs the same count for each.
    for ((_, op, call) in impls) timeSuspend(maxOf(1, warmup / batchOf(op)), call, batchOf(op))
    val samples = impls.map { mutableListOf<Double>() }
    val per = maxOf(1, n / maxOf(1, blocks))
    repeat(maxOf(1, blocks)) {
        impls.forEachIndexed { i, (_, op, call) -> samples[i] += timeSuspend(per, call, batchOf(op)).toList() }
    }
    client.close()
    ok.dispatcher.executorService.shutdown()
    ok.connectionPool.evictAll()
    val results = impls.mapIndexed { i, (impl, op, _) ->
        if (op.startsWith("probe:")) {
            val probe = op.removePrefix("probe:")
            mapOf(
                "kind" to "probe", "lang" to "kotlin", "impl" to impl, "probe" to probe,
                "call" to PROBE_CALLS.getValue(probe), "batch" to PROBE_BATCH, "samples_us" to samples[i],
            )
        } else {
            mapOf("lang" to "kotlin", "impl" to impl, "op" to op, "samples_us" to samples[i])
        }
    }
    json(mapOf("case" to "latency", "blocks" to blocks, "results" to results))
}

/** Calls per probe sample: a probe takes about a microsecond, so a sample is a batch's mean. */
private const val PROBE_BATCH = 50

private fun batchOf(op: String): Int = if (op.startsWith("probe:")) PROBE_BATCH else 1

/** What each probe of the per-call breakdown calls (bench/NOTES.md, "Where the time goes"). */
private val PROBE_CALLS = mapOf(
    "crossing" to "client.baseUrl() (a sync uniffi export returning a String: its JNA calls and Structures)",
    "noio" to "client.resellerId() (suspend) with the reseller id given to the builder (no request)",
    "noio-blocking" to "client.blocking().resellerId(), the same through the blocking twin",
    "convert" to "the generated FfiConverterSequenceTypeSbcGateway.read of the sbcGateways result " +
        "from a ByteBuffer (the Kotlin half of lifting it, without JNA's memory access and free)",
)

/**
 * The binding's own cost per call without HTTP, timed in the latency blocks beside the real calls:
 * a sync export (`baseUrl`), an async call that answers without a request (`resellerId`, given to
 * the builder) awaited from a coroutine and through the blocking twin, and the Kotlin half of
 * converting the `sbcGateways` result. The converter is found by name, so a binding that no longer
 * generates it still builds and the breakdown says the probe is missing.
 */
private fun probes(client: Client, gateways: Any): List<Triple<String, String, suspend () -> Unit>> {
    val blocking = client.blocking()
    val out = mutableListOf<Triple<String, String, suspend () -> Unit>>(
        Triple("Client", "probe:crossing") { client.baseUrl() },
        Triple("Client", "probe:noio") { client.resellerId() },
        Triple("Client", "probe:noio-blocking") { blocking.resellerId() },
    )
    val converter = listOf("dev.cttonboard.ffi", "dev.cttonboard").firstNotNullOfOrNull { pkg ->
        runCatching { Class.forName("$pkg.FfiConverterSequenceTypeSbcGateway") }.getOrNull()
    }
    if (converter != null) {
        val instance = converter.getField("INSTANCE").get(null)
        val write = converter.getMethod("write", List::class.java, java.nio.ByteBuffer::class.java)
        val read = converter.getMethod("read", java.nio.ByteBuffer::class.java)
        val buf = java.nio.ByteBuffer.allocateDirect(1 shl 16)
        write.invoke(instance, gateways, buf)
        buf.flip()
        out += Triple("Client", "probe:convert") {
            buf.rewind()
            read.invoke(instance, buf)
        }
    }
    return out
}

private fun bulkResult(impl: String, n: Int, concurrency: Int, seconds: Double): String = json(
    mapOf(
        "case" to "bulk", "lang" to "kotlin", "impl" to impl, "n" to n,
        "concurrency" to concurrency, "seconds" to seconds, "peak_rss_kb" to peakRssKb(),
    ),
)

private fun createBody(name: String) =
    """{"enterpriseName":"$name","services":["SMS","CHAT"],"restrictAdminAccess":true}"""

private fun urlBody(name: String) =
    """{"actionType":"REGISTRATION","enterpriseName":"$name","redirectUrl":"$REDIRECT"}"""

private fun bulk(impl: String, n: Int, concurrency: Int): String = when (impl) {
    "ctt" -> bulkCtt(n, concurrency)
    "jdk" -> bulkJdk(n, concurrency)
    "okhttp" -> bulkOkHttp(n, concurrency)
    else -> error("unknown bulk impl $impl: ctt | jdk | okhttp")
}

private fun bulkCtt(n: Int, concurrency: Int): String = runBlocking {
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
        bulkResult("Client", n, concurrency, (System.nanoTime() - t) / 1e9)
    }
}

/** `concurrency` chains of sendAsync, each taking the next index when its two requests are done. */
private fun bulkJdk(n: Int, concurrency: Int): String {
    val s = sim()
    val prefix = "Jdk Bulk ${ProcessHandle.current().pid()}"
    val http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build()
    val token = jdkToken(http, s)
    fun post(path: String, body: String): HttpRequest =
        HttpRequest.newBuilder(URI.create(s.baseUrl + path))
            .header("Authorization", "Bearer $token").header("Content-Type", "application/json")
            .POST(HttpRequest.BodyPublishers.ofString(body)).build()
    val next = AtomicInteger(0)
    fun chain(): CompletableFuture<Unit> {
        val i = next.getAndIncrement()
        if (i >= n) return CompletableFuture.completedFuture(Unit)
        val name = "$prefix $i"
        return http.sendAsync(post("/reseller/newEnterprise", createBody(name)), HttpResponse.BodyHandlers.ofString())
            .thenCompose { r ->
                check(r.statusCode() == 200) { "newEnterprise: ${r.statusCode()}" }
                r.body().trim().toLong()
                http.sendAsync(post("/enterprise/getActionItemUrl", urlBody(name)), HttpResponse.BodyHandlers.ofString())
            }
            .thenCompose { r ->
                check(r.statusCode() == 200) { "getActionItemUrl: ${r.statusCode()}" }
                chain()
            }
    }
    val t = System.nanoTime()
    CompletableFuture.allOf(*Array(concurrency) { chain() }).join()
    return bulkResult("java.net.http.HttpClient sendAsync", n, concurrency, (System.nanoTime() - t) / 1e9)
}

/** `concurrency` chains of OkHttp `enqueue` callbacks, each taking the next index when done. */
private fun bulkOkHttp(n: Int, concurrency: Int): String {
    val s = sim()
    val prefix = "OkHttp Bulk ${ProcessHandle.current().pid()}"
    val dispatcher = Dispatcher().apply {
        maxRequests = concurrency
        maxRequestsPerHost = concurrency
    }
    val http = OkHttpClient.Builder()
        .dispatcher(dispatcher)
        .connectionPool(ConnectionPool(concurrency, 5, TimeUnit.MINUTES))
        .build()
    val token = okToken(http, s)
    fun post(path: String, body: String): Request = Request.Builder().url(s.baseUrl + path)
        .header("Authorization", "Bearer $token").post(body.toRequestBody(JSON_TYPE)).build()
    val next = AtomicInteger(0)
    val done = CountDownLatch(concurrency)
    val failure = AtomicReference<Throwable?>(null)
    fun enqueue(r: Request, then: (String) -> Unit) {
        http.newCall(r).enqueue(object : Callback {
            override fun onFailure(call: Call, e: IOException) {
                failure.compareAndSet(null, e)
                done.countDown()
            }

            override fun onResponse(call: Call, response: Response) {
                try {
                    val text = response.use {
                        check(it.code == 200) { "${r.url.encodedPath}: ${it.code}" }
                        it.body.string()
                    }
                    then(text)
                } catch (e: Throwable) {
                    failure.compareAndSet(null, e)
                    done.countDown()
                }
            }
        })
    }
    fun chain() {
        val i = next.getAndIncrement()
        if (i >= n || failure.get() != null) {
            done.countDown()
            return
        }
        val name = "$prefix $i"
        enqueue(post("/reseller/newEnterprise", createBody(name))) { id ->
            id.trim().toLong()
            enqueue(post("/enterprise/getActionItemUrl", urlBody(name))) { chain() }
        }
    }
    val t = System.nanoTime()
    repeat(concurrency) { chain() }
    done.await()
    val seconds = (System.nanoTime() - t) / 1e9
    failure.get()?.let { throw it }
    dispatcher.executorService.shutdown()
    http.connectionPool.evictAll()
    return bulkResult("OkHttp enqueue", n, concurrency, seconds)
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
        "latency" -> latency(arg(args, "--warmup", 2000), arg(args, "--n", 2000), arg(args, "--blocks", 4))
        "bulk" -> bulk(argStr(args, "--impl", "ctt"), arg(args, "--n", 10_000), arg(args, "--concurrency", 64))
        "singleflight" -> singleflight(arg(args, "--n", 1000))
        "coldstart" -> coldstart()
        else -> error("unknown case ${args.firstOrNull()}: latency | bulk | singleflight | coldstart")
    }
    println(out)
}
