import Testing

// Tests of the SafeTensors module go here.
