"""The sandbox: safe experimentation on the gateway's approved models."""
