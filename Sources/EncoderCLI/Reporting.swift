import ArgumentParser
import Foundation

/// A subcommand whose failures reach the user as one line, `error: ...`, on stderr and exit status 1.
///
/// ArgumentParser would print "Error: " followed by the error's description; the runtime's
/// errors already name the file and the problem, so they are printed as they are.
protocol ReportingCommand: ParsableCommand {
    func execute() throws
}

extension ReportingCommand {
    func run() throws {
        do {
            try execute()
        } catch let exit as ExitCode {
            throw exit
        } catch {
            Stderr.write("error: \(String(describing: error))\n")
            throw ExitCode(1)
        }
    }
}

/// Unbuffered writes to standard error.
enum Stderr {
    static func write(_ text: String) {
        FileHandle.standardError.write(Data(text.utf8))
    }
}

/// An error of the command line itself (a bad option value, an unreadable input file).
struct CLIError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
