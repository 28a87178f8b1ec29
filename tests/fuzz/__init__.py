"""Property-based fuzzing of the library's decoders and the emulator's endpoints."""
