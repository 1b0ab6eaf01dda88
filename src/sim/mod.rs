//! The simulated OpenAgents deployment.
