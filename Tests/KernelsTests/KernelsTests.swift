import Testing

// Tests of the Kernels module go here.
