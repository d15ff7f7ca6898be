#if canImport(Glibc)
import Glibc
#endif

// meetmeter-fuzz TARGET [libFuzzer options] [corpus directories]
//
// One executable for every target (one sanitizer build), the target chosen by the first
// argument; the rest goes to libFuzzer as its command line. Each target's callback checks a
// property (round trips, differential against a plain model) and calls `violated` when it
// does not hold, which aborts: libFuzzer then keeps the input as a crash.

@_silgen_name("LLVMFuzzerRunDriver")
func LLVMFuzzerRunDriver(
    _ argc: UnsafeMutablePointer<CInt>,
    _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>>,
    _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt
) -> CInt

/// The target's callback, set once before libFuzzer starts (libFuzzer calls from one thread).
nonisolated(unsafe) var selected: (@Sendable (UnsafeRawBufferPointer) -> Void)?

let arguments = CommandLine.arguments
guard arguments.count >= 2, let target = FuzzTargets.all[arguments[1]] else {
    let names = FuzzTargets.all.keys.sorted().joined(separator: " ")
    printError("usage: meetmeter-fuzz TARGET [libFuzzer options] [corpus...]\ntargets: \(names)")
    if arguments.count >= 2 && arguments[1] == "--list" {
        print(names)
        exit(0)
    }
    exit(2)
}
selected = target

// libFuzzer's argv: the program name, then everything after the target name.
var argc = CommandLine.argc - 1
var argv = CommandLine.unsafeArgv + 1
argv[0] = CommandLine.unsafeArgv[0]
let rc = LLVMFuzzerRunDriver(&argc, &argv) { data, size in
    selected?(UnsafeRawBufferPointer(start: data, count: size))
    return 0
}
exit(rc)
