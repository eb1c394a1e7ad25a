// Cross-language step 3 (Kotlin): takes the remaining callbacks of the flow the Node step created
// and the Python step advanced, from the same SQLite row (compare-and-swap saves), with the same
// callback key, and advances it until it is complete. Run by ../run.sh.
package dev.cttonboard.crosslang

import dev.cttonboard.*
import kotlinx.coroutines.runBlocking
import java.io.File
import java.net.URI
import java.net.http.HttpClient
import java.net.http.HttpRequest
import java.net.http.HttpResponse
import java.sql.Connection
import java.sql.DriverManager

private const val LANG = "kotlin"
private const val TENANT = "contoso"
private var failures = 0

private fun env(name: String): String =
    System.getenv(name)?.takeIf { it.isNotEmpty() } ?: error("$name is not set: run tests/cross-language/run.sh")

private fun check(ok: Boolean, what: String): Boolean {
    File(env("CTT_XLANG_CHECKS")).appendText("${if (ok) "PASS" else "FAIL"}\t$LANG\t${what.replace('\n', ' ')}\n")
    if (!ok) failures++
    return ok
}

private fun hexToBytes(hex: String): ByteArray {
    require(hex.length % 2 == 0 && hex.all { it in "0123456789abcdefABCDEF" }) { "CTT_XLANG_KEY_HEX is not hex" }
    return ByteArray(hex.length / 2) { hex.substring(2 * it, 2 * it + 2).toInt(16).toByte() }
}

/** Just enough JSON for the simulator's answers: objects' members as raw text, strings decoded. */
private class Json(private val s: String) {
    private var i = 0

    /** The members of the object [s] is, each value as its raw JSON text. */
    fun members(): Map<String, String> {
        val out = LinkedHashMap<String, String>()
        ws(); expect('{'); ws()
        if (peek() == '}') return out
        while (true) {
            ws(); val k = string(); ws(); expect(':'); ws()
            val start = i; skipValue(); out[k] = s.substring(start, i)
            ws()
            if (peek() == ',') { i++; continue }
            expect('}'); return out
        }
    }

    fun string(): String {
        expect('"')
        val b = StringBuilder()
        while (true) {
            val c = s[i++]
            when (c) {
                '"' -> return b.toString()
                '\\' -> when (val e = s[i++]) {
                    'n' -> b.append('\n'); 't' -> b.append('\t'); 'r' -> b.append('\r')
                    'b' -> b.append('\b'); 'f' -> b.append('\u000c')
                    'u' -> { b.append(s.substring(i, i + 4).toInt(16).toChar()); i += 4 }
                    else -> b.append(e)
                }
                else -> b.append(c)
            }
        }
    }

    private fun skipValue() {
        when (peek()) {
            '"' -> string()
            '{', '[' -> {
                var depth = 0
                do {
                    when (peek()) {
                        '"' -> { string(); continue }
                        '{', '[' -> depth++
                        '}', ']' -> depth--
                    }
                    i++
                } while (depth > 0)
            }
            else -> while (i < s.length && s[i] !in ",}] \n\r\t") i++
        }
    }

    private fun peek(): Char = if (i < s.length) s[i] else error("JSON ends early: $s")
    private fun ws() { while (i < s.length && s[i].isWhitespace()) i++ }
    private fun expect(c: Char) { if (peek() != c) error("expected '$c' at $i in JSON"); i++ }
}

private fun str(raw: String): String = Json(raw).string()

private fun quote(v: String): String = buildString {
    append('"')
    for (c in v) when {
        c == '"' -> append("\\\""); c == '\\' -> append("\\\\")
        c < ' ' -> append("\\u%04x".format(c.code))
        else -> append(c)
    }
    append('"')
}

private class Db(path: String) : AutoCloseable {
    val conn: Connection = DriverManager.getConnection("jdbc:sqlite:$path").apply {
        createStatement().use { it.execute("PRAGMA busy_timeout = 30000") }
    }

    fun row(id: String): Pair<String, Long> =
        conn.prepareStatement("SELECT json, revision FROM flows WHERE id = ?").use { st ->
            st.setString(1, id)
            st.executeQuery().use { rs -> check(rs.next()) { "no stored flow $id" }; rs.getString(1) to rs.getLong(2) }
        }

    /** The compare-and-swap save: only when the stored row is still at [previous]. */
    fun saveIfAt(flow: Onboarding, previous: Long) {
        val n = conn.prepareStatement("UPDATE flows SET json = ?, revision = ? WHERE id = ? AND revision = ?").use {
            it.setString(1, flow.toJson()); it.setLong(2, flow.revision())
            it.setString(3, flow.id()); it.setLong(4, previous)
            it.executeUpdate()
        }
        if (n != 1) throw flowStateException("flow ${flow.id()}: the stored row is no longer at revision $previous")
    }

    fun exec(sql: String, vararg args: Any) = conn.prepareStatement(sql).use { st ->
        args.forEachIndexed { k, a -> if (a is Long) st.setLong(k + 1, a) else st.setString(k + 1, a.toString()) }
        st.executeUpdate()
    }

    fun strings(sql: String): List<List<String>> = conn.createStatement().use { st ->
        st.executeQuery(sql).use { rs ->
            val n = rs.metaData.columnCount
            buildList { while (rs.next()) add((1..n).map { rs.getString(it) }) }
        }
    }

    override fun close() = conn.close()
}

fun finish(): Unit = runBlocking {
    val sim = Json(env("CTT_XLANG_SIM")).members().mapValues { (_, v) -> if (v.startsWith('"')) str(v) else v }
    val baseUrl = sim.getValue("base_url")
    val key = hexToBytes(env("CTT_XLANG_KEY_HEX"))
    require(key.size == 32) { "CTT_XLANG_KEY_HEX is ${key.size} bytes, not 32" }
    val ring = CallbackKeys(key) // the key id is derived from the key, as in the other languages
    val client = Client.builder()
        .baseUrl(baseUrl)
        .reseller(sim.getValue("client_id"), sim.getValue("client_secret"), sim.getValue("username"), sim.getValue("password"))
        .enterprise(sim.getValue("client_id"), sim.getValue("client_secret"), sim.getValue("enterprise_username"), sim.getValue("enterprise_password"))
        .callbackKey(key)
        .build()
    val http = HttpClient.newHttpClient()
    fun approve(url: String): Pair<String, String> {
        val request = HttpRequest.newBuilder(URI.create("$baseUrl/_sim/approve"))
            .header("content-type", "application/json")
            .POST(HttpRequest.BodyPublishers.ofString("""{"url": ${quote(url)}, "tenant": ${quote(TENANT)}}"""))
            .build()
        val response = http.send(request, HttpResponse.BodyHandlers.ofString())
        check(response.statusCode() == 200) { "/_sim/approve answered ${response.statusCode()}: ${response.body()}" }
        val m = Json(response.body()).members()
        return str(m.getValue("url")) to m.getValue("body")
    }

    Db(env("CTT_XLANG_DB")).use { db ->
        // Callbacks the Python step already handled, delivered again (newest first).
        val replays = db.strings("SELECT flow_id, action, url, body, lang FROM inbox ORDER BY seq DESC")
        val handled = mutableListOf<String>()
        var firstRevision: Long? = null
        var progress: Progress? = null
        for (round in 1..10) {
            val asks = db.strings("SELECT flow_id, action, url FROM asks")
            if (!check(asks.size == 1, "one stored ask to answer (found ${asks.size})")) break
            val (storedId, action, askUrl) = asks[0]

            val (url, body) = approve(askUrl)
            db.exec("INSERT INTO inbox (flow_id, action, url, body, lang) VALUES (?, ?, ?, ?, ?)", storedId, action, url, body, LANG)
            val flowId = claimedFlowId(url)
            check(flowId == storedId, "$action: the callback URL names the stored flow")
            val (json, revision) = db.row(flowId ?: storedId)
            val flow = Onboarding.fromJson(json)
            if (firstRevision == null) firstRevision = revision
            check(flow.revision() == revision, "$action: the loaded flow is at the stored revision $revision")
            val loaded = flow.progress()
            check(loaded is Progress.AwaitingAdmin && loaded.url == askUrl,
                "$action: the flow written by the previous language waits for this ask")

            if (round == 1 && replays.size >= 2) {
                // The same answered ask with the same body is a duplicate that changes nothing;
                // with another body (an earlier ask's) it is refused.
                val (_, lastAction, lastUrl, lastBody, lastLang) = replays[0]
                val again = flow.handleCallback(ring, lastUrl, lastBody)
                check(again == CallbackOutcome.DUPLICATE && flow.revision() == revision,
                    "the $lastAction callback $lastLang handled, delivered again, is a duplicate that changes nothing ($again)")
                val refused = try {
                    flow.handleCallback(ring, lastUrl, replays[1][3]); null
                } catch (e: CttException.CallbackInvalid) { e }
                check(refused != null && flow.revision() == revision,
                    "the $lastAction callback URL with another body is refused (${refused?.message ?: "it was taken"})")
            }

            val outcome = flow.handleCallback(ring, url, body)
            check(outcome == CallbackOutcome.ACCEPTED, "$action: handleCallback accepts it ($outcome)")
            check(flow.hasUnconfirmedCallback(), "$action: accepted, not yet confirmed")
            check(flow.revision() > revision, "$action: accepting it raised the revision")
            db.saveIfAt(flow, revision)

            var saved = flow.revision()
            progress = flow.advance(client) { snapshot, previous ->
                if (previous != saved) throw flowStateException("checkpoint got $previous, this step saved $saved")
                db.saveIfAt(snapshot, previous)
                saved = snapshot.revision()
            }
            if (flow.revision() != saved) db.saveIfAt(flow, saved)
            check(!flow.hasUnconfirmedCallback(), "$action: advance confirmed the callback with the vendor")
            handled += action
            when (val p = progress) {
                is Progress.AwaitingAdmin -> {
                    if (!check(p.action.wireName != action, "$action: advance moves on to the next ask (got ${p.action.wireName})")) break
                    db.exec("UPDATE asks SET action = ?, url = ? WHERE flow_id = ?", p.action.wireName, p.url, flow.id())
                }
                is Progress.Complete -> {
                    db.exec("DELETE FROM asks WHERE flow_id = ?", flow.id())
                    check(flow.isComplete(), "the flow is complete (enterprise ${p.enterpriseId}, tenant ${p.tenantId})")
                    break
                }
                is Progress.WaitingUntil -> { check(false, "$action: unexpected wait until ${p.notBefore}: ${p.reason}"); break }
            }
        }
        val stored = db.strings("SELECT revision FROM flows").single()[0].toLong()
        db.exec("INSERT INTO history (lang, revision) VALUES (?, ?)", LANG, stored)
        val end = when (val p = progress) {
            is Progress.Complete -> "complete: enterprise ${p.enterpriseId}, tenant ${p.tenantId}"
            is Progress.AwaitingAdmin -> "awaiting ${p.action.wireName}"
            else -> "$p"
        }
        println("$LANG: handled ${handled.joinToString(", ").ifEmpty { "nothing" }}, revision $firstRevision -> $stored, $end")
    }
}

fun main() {
    try {
        finish()
    } catch (e: Throwable) {
        val at = e.stackTrace.firstOrNull { it.className.startsWith("dev.cttonboard.crosslang") }
            ?.let { " (at ${it.fileName}:${it.lineNumber})" } ?: ""
        check(false, "${e.javaClass.simpleName}: ${e.message}$at")
        println("$LANG: failed: ${e.javaClass.simpleName}: ${e.message}$at")
        e.printStackTrace()
        kotlin.system.exitProcess(1)
    }
    kotlin.system.exitProcess(if (failures == 0) 0 else 1)
}
