//! The adapters: implementations of the ports on real services (DynamoDB) and in memory.

pub mod chain_node;
pub mod dynamo;
pub mod eventbridge;
pub mod export_files;
pub mod http_sender;
pub mod memory;
pub mod sealer;
pub mod sqs;

pub use dynamo::DynamoStore;
pub use memory::MemoryStore;
