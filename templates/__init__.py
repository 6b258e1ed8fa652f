"""Solution templates: copier templates that developers fork through a form, with lineage and updates."""
