import Testing

// Tests of the EncoderCLI module go here.
