"""Environment configuration: HCL files in, frozen typed objects out."""
