"""The ground floor, imported by every other layer and importing none of them: errors and exit
statuses, settings and presets, the plugin registry and loader, what a model plugin is
(`model_api`) and the guard every plugin call passes, device choice, atomic writes, frame
conversions, output timing, the result of a job."""
