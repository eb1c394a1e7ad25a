package dev.cttonboard.scenarios

/**
 * Just enough JSON for the scenario files and the callback bodies the harness rewrites (no JSON
 * library is a dependency): objects are [LinkedHashMap]s in their key order, arrays [List]s,
 * numbers [Num] (their text, so no digit is lost), strings, booleans and null.
 */
object Json {
    /** A number as it was written. */
    data class Num(val text: String) {
        fun toLong(): Long = text.toLong()
        override fun toString(): String = text
    }

    fun parse(text: String): Any? = Reader(text).run {
        val v = value()
        ws()
        require(i == s.length) { "trailing text at $i" }
        v
    }

    /** [value] as JSON, compact, or with [indent] spaces per level. */
    fun write(value: Any?, indent: Int = 0): String = StringBuilder().also { write(it, value, indent, 0) }.toString()

    private fun write(out: StringBuilder, v: Any?, indent: Int, depth: Int) {
        fun nl(d: Int) {
            if (indent > 0) out.append('\n').append(" ".repeat(indent * d))
        }
        when (v) {
            null -> out.append("null")
            is Boolean -> out.append(v)
            is Num -> out.append(v.text)
            is Number -> out.append(v.toString())
            is String -> quote(out, v)
            is Map<*, *> -> {
                out.append('{')
                v.entries.forEachIndexed { n, (k, item) ->
                    if (n > 0) out.append(',')
                    nl(depth + 1)
                    quote(out, k.toString())
                    out.append(if (indent > 0) ": " else ":")
                    write(out, item, indent, depth + 1)
                }
                if (v.isNotEmpty()) nl(depth)
                out.append('}')
            }
            is List<*> -> {
                out.append('[')
                v.forEachIndexed { n, item ->
                    if (n > 0) out.append(',')
                    nl(depth + 1)
                    write(out, item, indent, depth + 1)
                }
                if (v.isNotEmpty()) nl(depth)
                out.append(']')
            }
            else -> quote(out, v.toString())
        }
    }

    fun quote(out: StringBuilder, s: String) {
        out.append('"')
        for (c in s) when {
            c == '"' -> out.append("\\\"")
            c == '\\' -> out.append("\\\\")
            c == '\n' -> out.append("\\n")
            c < ' ' -> out.append("\\u%04x".format(c.code))
            else -> out.append(c)
        }
        out.append('"')
    }

    private class Reader(val s: String) {
        var i = 0

        fun ws() {
            while (i < s.length && s[i].isWhitespace()) i++
        }

        fun value(): Any? {
            ws()
            require(i < s.length) { "JSON ends early" }
            return when (s[i]) {
                '{' -> obj()
                '[' -> arr()
                '"' -> str()
                't' -> lit("true", true)
                'f' -> lit("false", false)
                'n' -> lit("null", null)
                else -> num()
            }
        }

        private fun lit(word: String, v: Any?): Any? {
            require(s.startsWith(word, i)) { "bad literal at $i" }
            i += word.length
            return v
        }

        private fun num(): Num {
            val start = i
            while (i < s.length && (s[i].isDigit() || s[i] in "+-.eE")) i++
            require(i > start) { "unexpected '${s[start]}' at $start" }
            return Num(s.substring(start, i))
        }

        private fun obj(): Map<String, Any?> {
            val out = LinkedHashMap<String, Any?>()
            i++
            ws()
            if (s[i] == '}') return out.also { i++ }
            while (true) {
                ws()
                val k = str()
                ws()
                require(s[i] == ':') { "expected ':' at $i" }
                i++
                out[k] = value()
                ws()
                when (s[i++]) {
                    ',' -> continue
                    '}' -> return out
                    else -> error("expected ',' or '}' at ${i - 1}")
                }
            }
        }

        private fun arr(): List<Any?> {
            val out = ArrayList<Any?>()
            i++
            ws()
            if (s[i] == ']') return out.also { i++ }
            while (true) {
                out.add(value())
                ws()
                when (s[i++]) {
                    ',' -> continue
                    ']' -> return out
                    else -> error("expected ',' or ']' at ${i - 1}")
                }
            }
        }

        private fun str(): String {
            require(s[i] == '"') { "expected a string at $i" }
            i++
            val b = StringBuilder()
            while (true) {
                val c = s[i++]
                when (c) {
                    '"' -> return b.toString()
                    '\\' -> when (val e = s[i++]) {
                        'n' -> b.append('\n')
                        't' -> b.append('\t')
                        'r' -> b.append('\r')
                        'b' -> b.append('\b')
                        'f' -> b.append('\u000c')
                        'u' -> {
                            b.append(s.substring(i, i + 4).toInt(16).toChar())
                            i += 4
                        }
                        else -> b.append(e)
                    }
                    else -> b.append(c)
                }
            }
        }
    }
}
