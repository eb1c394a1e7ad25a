package dev.cttonboard

/**
 * A small JSON reader and writer for the tests that rewrite callback bodies (no JSON library is
 * a dependency): objects keep their key order, numbers stay as their text.
 */
object TestJson {
    /** A number, kept as it was written. */
    data class Num(val text: String)

    fun parse(text: String): Any? = Reader(text).run { val v = value(); ws(); require(i == s.length) { "trailing text at $i" }; v }

    /**
     * [value] as JSON: [indent] spaces per level (0: compact), object keys reversed when
     * [reverseKeys], and [pad] after every `:` and `,`.
     */
    fun write(value: Any?, indent: Int = 0, reverseKeys: Boolean = false, pad: String = ""): String =
        StringBuilder().also { write(it, value, indent, reverseKeys, pad, 0) }.toString()

    private fun write(out: StringBuilder, v: Any?, indent: Int, reverse: Boolean, pad: String, depth: Int) {
        fun nl(d: Int) { if (indent > 0) out.append('\n').append(" ".repeat(indent * d)) }
        when (v) {
            null -> out.append("null")
            is Boolean -> out.append(v)
            is Num -> out.append(v.text)
            is String -> quote(out, v)
            is Map<*, *> -> {
                out.append('{')
                val entries = v.entries.toList().let { if (reverse) it.reversed() else it }
                entries.forEachIndexed { n, (k, item) ->
                    if (n > 0) out.append(',').append(pad)
                    nl(depth + 1)
                    quote(out, k as String)
                    out.append(':').append(pad)
                    write(out, item, indent, reverse, pad, depth + 1)
                }
                if (entries.isNotEmpty()) nl(depth)
                out.append('}')
            }
            is List<*> -> {
                out.append('[')
                v.forEachIndexed { n, item ->
                    if (n > 0) out.append(',').append(pad)
                    nl(depth + 1)
                    write(out, item, indent, reverse, pad, depth + 1)
                }
                if (v.isNotEmpty()) nl(depth)
                out.append(']')
            }
            else -> error("not JSON: $v")
        }
    }

    private fun quote(out: StringBuilder, s: String) {
        out.append('"')
        for (c in s) when {
            c == '"' -> out.append("\\\"")
            c == '\\' -> out.append("\\\\")
            c < ' ' -> out.append("\\u%04x".format(c.code))
            else -> out.append(c)
        }
        out.append('"')
    }

    /** The object at [path] in [root] (a parsed body), for editing in place. */
    @Suppress("UNCHECKED_CAST")
    fun obj(root: Any?, vararg path: String): MutableMap<String, Any?> =
        path.fold(root) { at, key -> (at as Map<String, Any?>)[key] } as MutableMap<String, Any?>

    private class Reader(val s: String) {
        var i = 0

        fun ws() { while (i < s.length && s[i].isWhitespace()) i++ }

        fun value(): Any? {
            ws()
            return when (val c = s[i]) {
                '{' -> {
                    i++
                    val m = LinkedHashMap<String, Any?>()
                    ws()
                    if (s[i] == '}') { i++; return m }
                    while (true) {
                        ws()
                        val k = string()
                        ws(); require(s[i++] == ':')
                        m[k] = value()
                        ws()
                        if (s[i++] == '}') return m
                    }
                }
                '[' -> {
                    i++
                    val l = ArrayList<Any?>()
                    ws()
                    if (s[i] == ']') { i++; return l }
                    while (true) {
                        l += value()
                        ws()
                        if (s[i++] == ']') return l
                    }
                }
                '"' -> string()
                't' -> { i += 4; true }
                'f' -> { i += 5; false }
                'n' -> { i += 4; null }
                else -> {
                    require(c == '-' || c.isDigit()) { "unexpected $c at $i" }
                    val start = i
                    while (i < s.length && (s[i].isDigit() || s[i] in "+-.eE")) i++
                    Num(s.substring(start, i))
                }
            }
        }

        fun string(): String {
            require(s[i++] == '"')
            val out = StringBuilder()
            while (true) {
                when (val c = s[i++]) {
                    '"' -> return out.toString()
                    '\\' -> when (val e = s[i++]) {
                        'n' -> out.append('\n'); 't' -> out.append('\t'); 'r' -> out.append('\r')
                        'b' -> out.append('\b'); 'f' -> out.append('\u000c')
                        'u' -> { out.append(s.substring(i, i + 4).toInt(16).toChar()); i += 4 }
                        else -> out.append(e)
                    }
                    else -> out.append(c)
                }
            }
        }
    }
}
