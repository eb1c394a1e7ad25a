// A worker process for IntegrityTest's races on one SQLite file: the test starts two of these
// JVMs (ProcessBuilder, the test classpath) against one simulator and one database file.
@file:JvmName("RaceWorker")

package dev.cttonboard

import kotlinx.coroutines.runBlocking
import java.sql.Connection
import java.sql.DriverManager
import java.util.concurrent.atomic.AtomicInteger
import kotlin.concurrent.thread
import kotlin.random.Random
import kotlin.system.exitProcess

/** Flows stored as (id, json, revision), saved with compare-and-swap on the revision. */
class FlowStore(path: String) : AutoCloseable {
    val db: Connection = DriverManager.getConnection("jdbc:sqlite:$path").apply {
        createStatement().use { it.execute("PRAGMA busy_timeout = 20000") }
    }

    fun create() {
        db.createStatement().use {
            it.execute("PRAGMA journal_mode = WAL")
            it.execute("CREATE TABLE flows (id TEXT PRIMARY KEY, json TEXT NOT NULL, revision INTEGER NOT NULL)")
            it.execute("CREATE TABLE callbacks (seq INTEGER PRIMARY KEY AUTOINCREMENT, url TEXT NOT NULL, body TEXT NOT NULL, outcome TEXT)")
            it.execute("CREATE TABLE control (name TEXT PRIMARY KEY, value INTEGER NOT NULL)")
        }
    }

    fun insert(flow: Onboarding) = db.prepareStatement("INSERT INTO flows (id, json, revision) VALUES (?, ?, ?)").use {
        it.setString(1, flow.id()); it.setString(2, flow.toJson()); it.setLong(3, flow.revision()); it.executeUpdate()
    }

    fun ids(): List<String> = db.createStatement().use { st ->
        st.executeQuery("SELECT id FROM flows ORDER BY id").use { rs -> buildList { while (rs.next()) add(rs.getString(1)) } }
    }

    /** The stored flow and the revision it was stored at. */
    fun load(id: String): Pair<Onboarding, Long> = db.prepareStatement("SELECT json, revision FROM flows WHERE id = ?").use {
        it.setString(1, id)
        it.executeQuery().use { rs ->
            check(rs.next()) { "no flow $id" }
            Onboarding.fromJson(rs.getString(1)) to rs.getLong(2)
        }
    }

    /** Saves [flow] only if the row is still at [previous]; false when another writer moved it on. */
    fun compareAndSwap(flow: Onboarding, previous: Long): Boolean =
        db.prepareStatement("UPDATE flows SET json = ?, revision = ? WHERE id = ? AND revision = ?").use {
            it.setString(1, flow.toJson()); it.setLong(2, flow.revision()); it.setString(3, flow.id()); it.setLong(4, previous)
            it.executeUpdate() == 1
        }

    /** Saves [flow] whatever the row holds: what a portal without revisions does (the weakened mode). */
    fun blindSave(flow: Onboarding) = db.prepareStatement("UPDATE flows SET json = ?, revision = ? WHERE id = ?").use {
        it.setString(1, flow.toJson()); it.setLong(2, flow.revision()); it.setString(3, flow.id()); it.executeUpdate()
    }

    fun addCallback(url: String, body: String): Long = db.prepareStatement("INSERT INTO callbacks (url, body) VALUES (?, ?)").use {
        it.setString(1, url); it.setString(2, body); it.executeUpdate()
        db.createStatement().use { st -> st.executeQuery("SELECT last_insert_rowid()").use { rs -> rs.next(); rs.getLong(1) } }
    }

    /** Callbacks not yet applied: (seq, url, body). */
    fun pendingCallbacks(): List<Triple<Long, String, String>> = db.createStatement().use { st ->
        st.executeQuery("SELECT seq, url, body FROM callbacks WHERE outcome IS NULL ORDER BY seq").use { rs ->
            buildList { while (rs.next()) add(Triple(rs.getLong(1), rs.getString(2), rs.getString(3))) }
        }
    }

    fun outcome(seq: Long): String? = db.prepareStatement("SELECT outcome FROM callbacks WHERE seq = ?").use {
        it.setLong(1, seq); it.executeQuery().use { rs -> if (rs.next()) rs.getString(1) else null }
    }

    fun setOutcome(seq: Long, outcome: String) = db.prepareStatement("UPDATE callbacks SET outcome = ? WHERE seq = ?").use {
        it.setString(1, outcome); it.setLong(2, seq); it.executeUpdate()
    }

    fun stop() = db.createStatement().use { it.execute("INSERT OR REPLACE INTO control (name, value) VALUES ('stop', 1)") }

    fun stopped(): Boolean = db.createStatement().use { st ->
        st.executeQuery("SELECT value FROM control WHERE name = 'stop'").use { rs -> rs.next() && rs.getLong(1) == 1L }
    }

    override fun close() = db.close()
}

/** The checkpoint a portal with several workers uses: compare-and-swap, stale is `FlowState`. */
class CasCheckpoint(private val store: FlowStore, private val blind: Boolean = false) : FlowCheckpoint {
    override fun save(flow: Onboarding, previousRevision: Long) {
        if (blind) {
            store.blindSave(flow)
            return
        }
        if (!store.compareAndSwap(flow, previousRevision)) {
            throw flowStateException("stale: flow ${flow.id()} moved on from revision $previousRevision")
        }
    }
}

/**
 * Applies one callback to its flow (`claimedFlowId`) and saves it with compare-and-swap; when the
 * row moved on, reloads the flow and applies it again. Returns `accepted`, `duplicate` or the error.
 */
private fun apply(store: FlowStore, client: Client, url: String, body: String, stale: AtomicInteger): String {
    val id = checkNotNull(claimedFlowId(url)) { "a callback URL without a flow id" }
    while (true) {
        val (flow, revision) = store.load(id)
        val outcome = try {
            flow.handleCallback(client, url, body).name.lowercase()
        } catch (e: CttException) {
            "error $e"
        }
        if (outcome != "accepted") return outcome
        Thread.sleep(Random.nextLong(0, 8))
        if (store.compareAndSwap(flow, revision)) return outcome
        stale.incrementAndGet()
    }
}

/**
 * `RaceWorker <role> <db> <baseUrl> <clientId> <clientSecret> <user> <password> <entUser> <entPassword> <keyHex> [args]`:
 * - `advancer`: advances every stored flow with a CAS checkpoint until told to stop (`--blind`:
 *   a checkpoint without the revision check, and a save after every advance, as a portal without
 *   revisions would; for showing that the test catches what that loses);
 * - `applier`: applies every queued callback to its flow (`claimedFlowId`) and saves with CAS,
 *   reloading and applying again when the row moved on, in two lanes (odd and even rows);
 * - `racer <ids,...> <startAtMillis> <spacingMs>`: for each flow at its start time, one advance
 *   with a CAS checkpoint, then waits until the stored flow has its enterprise id.
 * Prints `key=value` lines for the test.
 */
fun main(args: Array<String>) {
    val (role, path, baseUrl) = args
    val key = args[9].chunked(2).map { it.toInt(16).toByte() }.toByteArray()
    val blind = "--blind" in args
    val client = Client.builder().baseUrl(baseUrl)
        .reseller(args[3], args[4], args[5], args[6])
        .enterprise(args[3], args[4], args[7], args[8])
        .callbackKey(key)
        .build()
    val deadline = System.nanoTime() + 150_000_000_000L
    FlowStore(path).use { store ->
        when (role) {
            "advancer" -> runBlocking {
                var advances = 0
                var stale = 0
                while (!store.stopped() && System.nanoTime() < deadline) {
                    for (id in store.ids()) {
                        val (flow, _) = store.load(id)
                        if (flow.isComplete()) continue
                        Thread.sleep(Random.nextLong(0, 4))
                        try {
                            flow.advance(client, CasCheckpoint(store, blind))
                            if (blind) store.blindSave(flow)
                            advances++
                        } catch (e: CttException.FlowState) {
                            stale++
                        } catch (e: CttException) {
                            println("error=$e")
                        }
                    }
                    Thread.sleep(Random.nextLong(1, 6))
                }
                println("advances=$advances")
                println("stale=$stale")
            }
            "applier" -> {
                // Two lanes, each with its own connection: the queue holds every callback twice
                // (a browser that posted the form twice), one copy per lane, applied at once.
                val applied = AtomicInteger()
                val stale = AtomicInteger()
                val lanes = (0 until 2).map { lane ->
                    thread {
                        FlowStore(path).use { own ->
                            while (!own.stopped() && System.nanoTime() < deadline) {
                                for ((seq, url, body) in own.pendingCallbacks()) {
                                    if (seq % 2 != lane.toLong()) continue
                                    own.setOutcome(seq, apply(own, client, url, body, stale))
                                    applied.incrementAndGet()
                                }
                                Thread.sleep(2)
                            }
                        }
                    }
                }
                lanes.forEach { it.join() }
                println("applied=$applied")
                println("stale=$stale")
            }
            "racer" -> runBlocking {
                val ids = args[10].split(',')
                val startAt = args[11].toLong()
                val spacing = args[12].toLong()
                ids.forEachIndexed { i, id ->
                    val at = startAt + i * spacing
                    while (System.currentTimeMillis() < at) Thread.sleep(1)
                    val (flow, _) = store.load(id)
                    val result = try {
                        flow.advance(client, CasCheckpoint(store, blind))
                        "advanced"
                    } catch (e: CttException.FlowState) {
                        "stale"
                    } catch (e: CttException) {
                        "error $e"
                    }
                    var enterprise: Long? = null
                    while (enterprise == null && System.nanoTime() < deadline) {
                        enterprise = store.load(id).first.enterpriseId()
                        if (enterprise == null) Thread.sleep(5)
                    }
                    println("flow=$id result=$result enterprise=$enterprise")
                }
            }
            else -> {
                System.err.println("unknown role $role")
                exitProcess(2)
            }
        }
    }
    client.close()
}
