//! Liveness and readiness (being written).
