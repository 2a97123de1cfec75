mod harness;
mod plan;
