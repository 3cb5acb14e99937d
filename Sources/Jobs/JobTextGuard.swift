import Foundation

/// Job-file text is read by TOMLKit, which wraps the C++ parser toml++. Some malformed inputs (a table header with
/// one bracket too many, `[[[model]]`) violate a precondition inside toml++ and abort the process, where Swift's
/// `do`/`catch` never sees an error (TOMLKit issue #30, toml++ PR #301). `JobTextGuard` keeps such text away from
/// processes that must survive it:
///
/// - `prescan(text:path:)` rejects what the library is known to abort on (malformed table headers) with a positioned
///   `InputError`, before TOMLKit sees the text;
/// - `parseIsolated(text:path:executable:)` parses in a short-lived child process (`causa parse-job`) with a time
///   and memory limit, so an abort the pre-scan did not foresee ends the child, not the caller. The coordinator,
///   `causa local`, `causa submit` and `causa partition` parse this way.
///
/// `JobSpec.parse` (and so `JobSpec.load`) runs the pre-scan before TOMLKit; library callers and tests parse in
/// process that way (`parseInProcess` is the same).
public enum JobTextGuard {
    /// Limits of the child process that parses a job file.
    public struct Limits: Sendable {
        /// Wall-clock seconds before the child is killed.
        public var seconds: Double = 10
        /// Address-space limit of the child (RLIMIT_AS), bytes. A Swift process with its libraries reserves about
        /// 500 MB of virtual memory before it reads anything (OpenBLAS, Foundation); a job file is a few KB.
        public var memoryBytes: UInt64 = 1 << 30
        /// CPU seconds of the child (RLIMIT_CPU).
        public var cpuSeconds: UInt64 = 10
        public init() {}
    }

    /// The hidden subcommand the child runs: `causa parse-job --path PATH`, job text on stdin, JSON on stdout.
    public static let subcommand = "parse-job"

    // MARK: pre-scan

    /// Checks the lexical structure TOMLKit's parser relies on: every table header (`[a.b]`, `[[a]]`) outside
    /// strings and arrays is one or two opening brackets, a dotted key of bare or quoted parts, the same number of
    /// closing brackets, and then only a comment. Everything else is left to the TOML parser.
    /// - Throws: `InputError` at the header's line and the column of the first character that breaks the rule.
    public static func prescan(text: String, path: String) throws {
        if let (line, column, message) = controlCharacter(in: text) {
            throw InputError(file: path, line: line, column: column, "TOML syntax error: \(message)")
        }
        var scanner = Prescanner(bytes: Array(text.utf8))
        if let (line, column, message) = scanner.firstError() {
            throw InputError(file: path, line: line, column: column, "TOML syntax error: \(message)")
        }
    }

    /// The first raw control character (TOML allows none but tab, LF and CR) or NUL escape (`\u0000`,
    /// `\U00000000`) in job text, as (line, column, message), or nil. TOMLKit hands strings over as C strings, so a NUL
    /// would silently cut a value (a formula, a data path) or the rest of the file short.
    static func controlCharacter(in text: String) -> (Int, Int, String)? {
        var line = 1
        var column = 0
        let scalars = Array(text.unicodeScalars)
        for (k, u) in scalars.enumerated() {
            if u == "\n" {
                line += 1
                column = 0
                continue
            }
            column += 1
            let v = u.value
            if (v < 0x20 && v != 0x09 && v != 0x0D) || v == 0x7F {
                return (
                    line, column, "a control character (U+\(String(format: "%04X", v))) is not allowed in a job file"
                )
            }
            if u == "\\", k + 5 < scalars.count, scalars[k + 1] == "u" || scalars[k + 1] == "U" {
                let digits = scalars[k + 1] == "u" ? 4 : 8
                if k + 1 + digits < scalars.count, scalars[(k + 2)...(k + 1 + digits)].allSatisfy({ $0 == "0" }) {
                    return (
                        line, column,
                        "a NUL character (\\\(scalars[k + 1])\(String(repeating: "0", count: digits))) "
                            + "cannot be in a job file: values are passed on as C strings, which it would cut short"
                    )
                }
            }
        }
        return nil
    }

    /// The pre-scan, then TOMLKit, in this process (`JobSpec.parse`).
    /// - Throws: `InputError`.
    public static func parseInProcess(text: String, path: String) throws -> JobSpec {
        try JobSpec.parse(text: text, path: path)
    }

    // MARK: out of process

    /// Reads a job file and parses it in a child process (see `parseIsolated`).
    /// - Throws: `InputError` (missing or unreadable file, not UTF-8, any job-file error); `RunError` when the child
    ///   cannot be started.
    public static func loadIsolated(path: String, executable: String, limits: Limits = .init()) throws -> JobSpec {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw InputError(file: path, "no such job file (or it cannot be read)")
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw InputError(file: path, line: 1, "the job file is not UTF-8")
        }
        return try parseIsolated(text: text, path: path, executable: executable, limits: limits)
    }

    /// Parses job text in a child process: `executable parse-job --path PATH` with the text on stdin. The child
    /// pre-scans, parses and writes the `JobSpec` (or the input error) as JSON; an abort, a crash, a time-out or an
    /// exhausted memory limit in the child becomes an `InputError` naming the job file.
    /// - Parameters:
    ///   - executable: the `causa` binary (`/proc/self/exe` inside `causa`).
    /// - Throws: `InputError`; `RunError` when the child cannot be started or answers nonsense with exit 0.
    public static func parseIsolated(text: String, path: String, executable: String, limits: Limits = .init()) throws
        -> JobSpec
    {
        // The pre-scan runs here too: it is cheap, and its errors need no process.
        try prescan(text: text, path: path)
        let outcome = try runChild(
            executable: executable, arguments: [subcommand, "--path", path],
            input: Data(text.utf8), limits: limits)
        switch outcome.termination {
        case .exited(0):
            return try decodeAnswer(outcome.stdout, path: path)
        case .exited(let code):
            let detail = String(decoding: outcome.stderr.suffix(400), as: UTF8.self).trimmingCharacters(
                in: .whitespacesAndNewlines)
            throw RunError(
                "the job-file parser (\(executable) \(subcommand)) "
                    + "exited with status \(code)\(detail.isEmpty ? "" : ": \(detail)")"
            )
        case .signalled(let signal):
            throw InputError(
                file: path,
                "the TOML parser crashed on this job file (signal \(signal)); "
                    + "check its table headers, brackets and quotes"
            )
        case .timedOut:
            throw InputError(
                file: path, "the TOML parser did not finish within \(Int(limits.seconds)) s on this job file")
        }
    }

    /// What the child writes on stdout.
    struct Answer: Codable {
        var spec: JobSpec?
        var error: ErrorAnswer?
    }

    struct ErrorAnswer: Codable {
        var file: String
        var line: Int?
        var column: Int?
        var message: String
    }

    static func decodeAnswer(_ data: Data, path: String) throws -> JobSpec {
        guard let answer = try? JSONDecoder().decode(Answer.self, from: data) else {
            throw RunError("the job-file parser wrote no readable answer for \(path)")
        }
        if let e = answer.error { throw InputError(file: e.file, line: e.line, column: e.column, e.message) }
        guard let spec = answer.spec else { throw RunError("the job-file parser wrote no job for \(path)") }
        return spec
    }

    /// The child's side of `parseIsolated`: parses `input` and returns the JSON answer. The caller (`causa parse-job`)
    /// applies `limitThisProcess` first.
    /// - Parameter prescan: false only to show what the TOML library does without the pre-scan (tests, fuzzing).
    public static func childAnswer(input: Data, path: String, prescan: Bool = true) -> Data {
        var answer = Answer()
        if let text = String(data: input, encoding: .utf8) {
            do {
                answer.spec =
                    prescan
                    ? try parseInProcess(text: text, path: path) : try JobSpec.parseUnchecked(text: text, path: path)
            } catch let e as InputError {
                answer.error = ErrorAnswer(file: e.file, line: e.line, column: e.column, message: e.message)
            } catch {
                answer.error = ErrorAnswer(file: path, message: "\(error)")
            }
        } else {
            answer.error = ErrorAnswer(file: path, line: 1, message: "the job file is not UTF-8")
        }
        return (try? JSONEncoder().encode(answer))
            ?? Data(#"{"error":{"file":"?","message":"cannot encode the answer"}}"#.utf8)
    }

    /// Limits this process's address space and CPU time and disables core dumps (the child calls this before it
    /// reads its input).
    public static func limitThisProcess(_ limits: Limits) {
        var memory = rlimit(rlim_cur: rlim_t(limits.memoryBytes), rlim_max: rlim_t(limits.memoryBytes))
        setrlimit(resourceID(RLIMIT_AS), &memory)
        var cpu = rlimit(rlim_cur: rlim_t(limits.cpuSeconds), rlim_max: rlim_t(limits.cpuSeconds))
        setrlimit(resourceID(RLIMIT_CPU), &cpu)
        var core = rlimit(rlim_cur: 0, rlim_max: 0)
        setrlimit(resourceID(RLIMIT_CORE), &core)
    }

    #if os(Linux)
        static func resourceID(_ r: __rlimit_resource) -> __rlimit_resource_t { __rlimit_resource_t(r.rawValue) }
    #else
        static func resourceID(_ r: Int32) -> Int32 { r }
    #endif

    // MARK: child processes

    /// How a child process ended.
    public enum Termination: Equatable, Sendable {
        case exited(Int32)
        case signalled(Int32)
        case timedOut
    }

    /// A finished child process: how it ended and what it wrote.
    public struct ChildOutcome: Sendable {
        public var termination: Termination
        public var stdout: Data
        public var stderr: Data
    }

    /// Runs `executable arguments` (posix_spawn, in a process group of its own), writes `input` to its stdin,
    /// collects stdout and stderr, and kills the group (SIGKILL) after `limits.seconds`.
    /// - Throws: `RunError` when the process cannot be started.
    public static func runChild(executable: String, arguments: [String], input: Data, limits: Limits) throws
        -> ChildOutcome
    {
        // A child that dies before reading its input closes the pipe: writing then must fail with EPIPE, not end this
        // process with SIGPIPE.
        signal(SIGPIPE, SIG_IGN)
        var inPipe: [Int32] = [-1, -1]
        var outPipe: [Int32] = [-1, -1]
        var errPipe: [Int32] = [-1, -1]
        guard pipe(&inPipe) == 0, pipe(&outPipe) == 0, pipe(&errPipe) == 0 else {
            for fd in inPipe + outPipe + errPipe where fd >= 0 { close(fd) }
            throw RunError("cannot start \(executable): no pipes (errno \(errno))")
        }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_adddup2(&actions, inPipe[0], 0)
        posix_spawn_file_actions_adddup2(&actions, outPipe[1], 1)
        posix_spawn_file_actions_adddup2(&actions, errPipe[1], 2)
        for fd in inPipe + outPipe + errPipe { posix_spawn_file_actions_addclose(&actions, fd) }
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETPGROUP))
        posix_spawnattr_setpgroup(&attributes, 0)
        let argv: [UnsafeMutablePointer<CChar>?] = ([executable] + arguments).map { strdup($0) } + [nil]
        defer { for a in argv { free(a) } }
        var pid: pid_t = 0
        let spawned = posix_spawn(&pid, executable, &actions, &attributes, argv, environ)
        close(inPipe[0])
        close(outPipe[1])
        close(errPipe[1])
        guard spawned == 0 else {
            close(inPipe[1])
            close(outPipe[0])
            close(errPipe[0])
            throw RunError("cannot start \(executable) \(arguments.first ?? ""): \(String(cString: strerror(spawned)))")
        }
        // The input is written from a thread, so a child that reads slowly cannot block the reading below.
        let writer = inPipe[1]
        let written = DispatchSemaphore(value: 0)
        Thread.detachNewThread {
            input.withUnsafeBytes { (raw: UnsafeRawBufferPointer) in
                var offset = 0
                while offset < raw.count {
                    let n = write(writer, raw.baseAddress! + offset, raw.count - offset)
                    if n < 0, errno == EINTR { continue }
                    if n <= 0 { break }
                    offset += n
                }
            }
            close(writer)
            written.signal()
        }
        var stdout = Data()
        var stderr = Data()
        var open: [Int32] = [outPipe[0], errPipe[0]]
        let deadline = Date().addingTimeInterval(limits.seconds)
        var timedOut = false
        var buffer = [UInt8](repeating: 0, count: 65_536)
        while !open.isEmpty {
            let left = deadline.timeIntervalSinceNow
            if left <= 0 {
                timedOut = true
                break
            }
            var fds = open.map { pollfd(fd: $0, events: Int16(POLLIN), revents: 0) }
            let ready = poll(&fds, nfds_t(fds.count), Int32(min(left, 1) * 1000) + 1)
            if ready < 0, errno != EINTR { break }
            for f in fds where f.revents != 0 {
                let n = read(f.fd, &buffer, buffer.count)
                if n > 0 {
                    if f.fd == outPipe[0] {
                        stdout.append(contentsOf: buffer[0..<n])
                    } else {
                        stderr.append(contentsOf: buffer[0..<n])
                    }
                } else if n == 0 || (n < 0 && errno != EINTR && errno != EAGAIN) {
                    open.removeAll { $0 == f.fd }
                }
            }
        }
        close(outPipe[0])
        close(errPipe[0])
        var status: Int32 = 0
        if timedOut {
            kill(-pid, SIGKILL)  // the whole group: descendants too
        } else {
            // Output closed; the child may still be running (it closed its descriptors): give it the rest of the time.
            while waitpid(pid, &status, WNOHANG) == 0 {
                if Date() > deadline {
                    timedOut = true
                    kill(-pid, SIGKILL)
                    break
                }
                usleep(1_000)
            }
            if !timedOut {
                _ = written.wait(timeout: .now() + 1)
                return ChildOutcome(termination: decode(status), stdout: stdout, stderr: stderr)
            }
        }
        while waitpid(pid, &status, 0) < 0, errno == EINTR {}
        _ = written.wait(timeout: .now() + 1)
        return ChildOutcome(termination: .timedOut, stdout: stdout, stderr: stderr)
    }

    /// A wait status as exit code or signal.
    static func decode(_ status: Int32) -> Termination {
        let signal = status & 0x7F
        return signal == 0 ? .exited((status >> 8) & 0xFF) : .signalled(signal)
    }
}

/// The pre-scan's lexer: strings, comments and bracket depth, enough to find table headers; headers are checked
/// against TOML's grammar. Positions are 1-based; columns count characters (Unicode scalars), as toml++ does.
struct Prescanner {
    let bytes: [UInt8]
    var i = 0
    var line = 1
    var lineStart = 0

    init(bytes: [UInt8]) { self.bytes = bytes }

    var column: Int { String(decoding: bytes[lineStart..<min(i, bytes.count)], as: UTF8.self).unicodeScalars.count + 1 }

    func peek(_ offset: Int = 0) -> UInt8? { i + offset < bytes.count ? bytes[i + offset] : nil }

    static func isBareKey(_ b: UInt8) -> Bool {
        (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A) || (b >= 0x30 && b <= 0x39) || b == 0x5F || b == 0x2D
    }

    static func isBlank(_ b: UInt8?) -> Bool { b == 0x20 || b == 0x09 }

    mutating func newline() {
        i += 1
        line += 1
        lineStart = i
    }

    mutating func skipBlanks() { while Self.isBlank(peek()) { i += 1 } }

    /// Describes the character at the cursor for messages.
    func found() -> String {
        guard let b = peek(), b != 0x0A, !(b == 0x0D && peek(1) == 0x0A) else { return "the end of the line" }
        let end = min(bytes.count, i + 4)
        let scalar = String(decoding: bytes[i..<end], as: UTF8.self).unicodeScalars.first.map(String.init) ?? "?"
        return "'\(scalar)'"
    }

    /// The first problem as (line, column, message), or nil.
    mutating func firstError() -> (Int, Int, String)? {
        var open: [UInt8] = []  // the arrays ('[') and inline tables ('{') a value has open
        var atLineStart = true
        var arrayValueNext = false  // just after an array's '[' or ',': a value or ']' must come
        var valueNext = false  // just after '=': a value must come
        while let b = peek() {
            switch b {
            case 0x0A:
                newline()
                atLineStart = true
                valueNext = false
                continue
            case 0x20, 0x09, 0x0D:
                i += 1
                continue
            case 0x23:  // '#': comment to the end of the line
                while let c = peek(), c != 0x0A { i += 1 }
                continue
            case 0x22, 0x27:  // strings
                if let e = skipString() { return e }
                atLineStart = false
                arrayValueNext = false
                valueNext = false
                continue
            default:
                break
            }
            // U+0085, U+2028 and U+2029 are not TOML line breaks; toml++ takes them for value ends where a value must
            // start (an assertion). Outside strings and comments they are never valid.
            if b == 0xC2, peek(1) == 0x85 {
                return (line, column, "U+0085 (next line) is not a TOML line break; use a newline")
            }
            if b == 0xE2, peek(1) == 0x80, peek(2) == 0xA8 || peek(2) == 0xA9 {
                return (line, column, "U+\(peek(2) == 0xA8 ? "2028" : "2029") is not a TOML line break; use a newline")
            }
            if b == 0x5B, open.isEmpty, atLineStart {  // '[' opening a line outside any value: a table header
                if let e = checkHeader() { return e }
                continue
            }
            atLineStart = false
            if arrayValueNext, b == 0x7D {  // toml++ fails an assertion on '}' where an array value must start
                return (line, column, "expected a value or ']' in the array, found '}'")
            }
            if Self.isDigit(b), i == 0 || !Self.isValueCharacter(bytes[i - 1]), let e = checkDateThenDigit() {
                return e
            }
            if valueNext || arrayValueNext, ![0x5B, 0x7B, 0x5D, 0x7D, 0x2C, 0x3D].contains(b) {
                // A bare value (number, date/time, boolean): its whole spelling is checked, since toml++ picks a
                // parser from a few characters and some of those parsers assert what they were promised.
                if let e = checkBareValue() { return e }
                valueNext = false
                arrayValueNext = false
                continue
            }
            valueNext = false
            arrayValueNext = false
            switch b {
            case 0x5B:
                open.append(b)
                arrayValueNext = true
            case 0x7B: open.append(b)
            case 0x5D, 0x7D: _ = open.popLast()
            case 0x2C: arrayValueNext = open.last == 0x5B
            case 0x3D: valueNext = true  // '=': a value follows
            default: break
            }
            i += 1
        }
        return nil
    }

    static func isDigit(_ b: UInt8) -> Bool { b >= 0x30 && b <= 0x39 }

    /// TOML 1.0's bare values (toml.io/en/v1.0.0, ABNF): booleans, integers (decimal, hex, octal, binary), floats
    /// (with inf and nan), offset and local date-times, local dates and local times.
    static let bareValue: NSRegularExpression = {
        let dec = "[0-9](?:_?[0-9])*"
        let int = "[+-]?(?:0|[1-9](?:_?[0-9])*)"
        let float = "\(int)(?:\\.\(dec)(?:[eE][+-]?\(dec))?|[eE][+-]?\(dec))|[+-]?(?:inf|nan)"
        let date = "[0-9]{4}-[0-9]{2}-[0-9]{2}"
        let time = "[0-9]{2}:[0-9]{2}:[0-9]{2}(?:\\.[0-9]+)?"
        let dateTime = "\(date)[Tt ]\(time)(?:[Zz]|[+-][0-9]{2}:[0-9]{2})?"
        let all = [
            "true", "false", int, "0x[0-9A-Fa-f](?:_?[0-9A-Fa-f])*", "0o[0-7](?:_?[0-7])*", "0b[01](?:_?[01])*", float,
            dateTime, date, time
        ].joined(separator: "|")
        return try! NSRegularExpression(pattern: "\\A(?:\(all))\\z")  // a constant pattern: it compiles
    }()

    /// Checks the bare value at the cursor and moves past it.
    mutating func checkBareValue() -> (Int, Int, String)? {
        let (l, col) = (line, column)
        func isEnd(_ j: Int) -> Bool {
            let b = bytes[j]
            if [0x20, 0x09, 0x0D, 0x0A, 0x2C, 0x5D, 0x7D, 0x23].contains(b) { return true }
            // U+0085, U+2028, U+2029: reported by the caller
            if b == 0xC2, j + 1 < bytes.count, bytes[j + 1] == 0x85 { return true }
            return b == 0xE2 && j + 2 < bytes.count && bytes[j + 1] == 0x80
                && (bytes[j + 2] == 0xA8 || bytes[j + 2] == 0xA9)
        }
        var j = i
        while j < bytes.count, !isEnd(j) { j += 1 }
        // A date-time may be written with a space between date and time.
        if j - i == 10, j + 1 < bytes.count, bytes[j] == 0x20, Self.isDigit(bytes[j + 1]) {
            j += 1
            while j < bytes.count, !isEnd(j) { j += 1 }
        }
        let token = String(decoding: bytes[i..<j], as: UTF8.self)
        i = j
        let range = NSRange(token.startIndex..<token.endIndex, in: token)
        guard Self.bareValue.firstMatch(in: token, range: range) == nil else { return nil }
        let shown = token.count > 40 ? String(token.prefix(40)) + "…" : token
        return (
            l, col,
            "'\(shown)' is not a TOML value ("
                + "a number, a date or time, true or false, a quoted string, an array or an inline table)"
        )
    }

    /// Characters that continue a bare value (number, date, boolean, key).
    static func isValueCharacter(_ b: UInt8) -> Bool { isBareKey(b) || b == 0x2B || b == 0x2E || b == 0x3A }

    /// A local date, one space and a single digit that does not start a time (`1979-05-27 5`): toml++ looks ahead
    /// for a date-time written with a space and fails an assertion when the value ends after that digit. No valid
    /// TOML has this shape outside strings (a time needs HH:MM:SS), so it is refused here. Does not move the cursor.
    func checkDateThenDigit() -> (Int, Int, String)? {
        var j = i
        var kept: [UInt8] = []
        while j < bytes.count, Self.isDigit(bytes[j]) || bytes[j] == 0x2D || bytes[j] == 0x5F {
            if bytes[j] != 0x5F { kept.append(bytes[j]) }  // toml++ skips underscores while it looks ahead
            j += 1
        }
        guard kept.count == 10, kept[4] == 0x2D, kept[7] == 0x2D,
            kept.enumerated().allSatisfy({ $0.offset == 4 || $0.offset == 7 || Self.isDigit($0.element) }),
            j + 1 < bytes.count, bytes[j] == 0x20, Self.isDigit(bytes[j + 1]),
            j + 2 >= bytes.count || !Self.isDigit(bytes[j + 2])
        else { return nil }
        let date = String(decoding: bytes[i..<j], as: UTF8.self)
        return (
            line, column,
            "'\(date)' followed by ' \(UnicodeScalar(bytes[j + 1]))' is neither a date nor a date-time "
                + "(a date-time written with a space needs HH:MM:SS after it: 1979-05-27 07:32:00)"
        )
    }

    /// Skips a string starting at the cursor (basic, literal, or either multi-line form).
    mutating func skipString() -> (Int, Int, String)? {
        let quote = bytes[i]
        let (startLine, startColumn) = (line, column)
        if peek(1) == quote, peek(2) == quote {  // multi-line
            i += 3
            while let c = peek() {
                if c == 0x5C, quote == 0x22, peek(1) != 0x0A {
                    i += 2
                    continue
                }
                if c == 0x0A {
                    newline()
                    continue
                }
                if c == quote, peek(1) == quote, peek(2) == quote {
                    i += 3
                    while peek() == quote { i += 1 }  // up to two quotes may end the content
                    return nil
                }
                i += 1
            }
            return (startLine, startColumn, "a multi-line string starting here is never closed")
        }
        i += 1
        while let c = peek() {
            if c == 0x0A { return nil }  // an unterminated string: the TOML parser says so
            if c == 0x5C, quote == 0x22, peek(1) != 0x0A {
                i += 2
                continue
            }
            i += 1
            if c == quote { return nil }
        }
        return nil
    }

    /// Checks a table header at the cursor and moves past its line.
    mutating func checkHeader() -> (Int, Int, String)? {
        i += 1
        var isArray = false
        if peek() == 0x5B {
            isArray = true
            i += 1
        }
        let what = isArray ? "an array-of-tables header [[name]]" : "a table header [name]"
        skipBlanks()
        // A dotted key: parts are bare (A-Z a-z 0-9 _ -) or quoted on one line, joined by dots.
        while true {
            guard let c = peek() else { return (line, column, "\(what) needs a table name, found the end of the file") }
            if Self.isBareKey(c) {
                while let d = peek(), Self.isBareKey(d) { i += 1 }
            } else if c == 0x22 || c == 0x27 {
                if peek(1) == c, peek(2) == c { return (line, column, "a table name cannot be a multi-line string") }
                let (l, col) = (line, column)
                i += 1
                var closed = false
                while let d = peek(), d != 0x0A {
                    if d == 0x5C, c == 0x22, peek(1) != 0x0A {
                        i += 2
                        continue
                    }
                    i += 1
                    if d == c {
                        closed = true
                        break
                    }
                }
                if !closed { return (l, col, "the quoted table name starting here is not closed on its line") }
            } else {
                return (
                    line, column,
                    "\(what) needs a table name (letters, digits, _ and -, or a quoted name), found \(found())"
                )
            }
            skipBlanks()
            guard peek() == 0x2E else { break }  // '.'
            i += 1
            skipBlanks()
        }
        let closing = isArray ? "]]" : "]"
        if isArray {
            guard peek() == 0x5D, peek(1) == 0x5D else {
                if peek() == 0x5D { return (line, column, "\(what) must end with ']]', but it closes with one ']'") }
                return (line, column, "\(what) must end with ']]', found \(found())")
            }
            i += 2
        } else {
            guard peek() == 0x5D else { return (line, column, "\(what) must end with ']', found \(found())") }
            i += 1
        }
        skipBlanks()
        if peek() == 0x0D, peek(1) == 0x0A { i += 1 }
        guard let c = peek(), c != 0x0A else { return nil }
        if c == 0x23 { return nil }  // a comment: the main loop skips it
        return (
            line, column,
            "unexpected \(found()) after the table header (it ends with '\(closing)'; only a comment may follow)"
        )
    }
}
