"""Chat with documents: upload and index a file for a conversation, then answer questions citing its passages."""
