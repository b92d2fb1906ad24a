// The Bert module; see Package.swift for how modules depend on each other.
