import Testing

// Tests of the Bert module go here.
