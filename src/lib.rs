//! ecs-key-preflight: would new Amazon ECS tasks on Fargate fail to start
//! because of their KMS key?
//!
//! The pipeline is `cli` → [`collect`] (the only AWS code) → [`inventory`]
//! (plain facts) → [`checks`] (pure functions) → [`report`] (verdicts, exit
//! code) → [`render`] (one module per format, writing to any `Write`).

pub mod app;
pub mod audit;
pub mod checks;
pub mod cli;
pub mod collect;
pub mod config;
pub mod error;
pub mod finding;
pub mod fsio;
pub mod inventory;
pub mod policy;
pub mod render;
pub mod report;
pub mod whatif;
pub mod when;
