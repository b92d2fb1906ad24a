import Testing

// Tests of the Tokenization module go here.
