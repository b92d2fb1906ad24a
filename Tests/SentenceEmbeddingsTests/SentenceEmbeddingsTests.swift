import Testing

// Tests of the SentenceEmbeddings module go here.
