"""Realistic demo data: the Nova Corrente ERP database and the Bahia geography behind it."""

from backend.demo.erp import DemoConfig, build_demo_frames, erp_metadata, generate_demo

__all__ = ["DemoConfig", "build_demo_frames", "erp_metadata", "generate_demo"]
