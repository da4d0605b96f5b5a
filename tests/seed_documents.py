"""The seed's own example documents (section 4 of the design seed 004), verbatim."""

from __future__ import annotations

SEED_ITERATIONS = {
    "$schema": "iterations-schema.json",
    "project": "assignment-03-sentiment-analysis",
    "iterations": [
        {
            "id": "v1-baseline",
            "name": "Baseline TF-IDF + Logistic Regression",
            "description": "Approche classique avec vectorisation TF-IDF et régression logistique",
            "approach": "classical-ml",
            "source_path": "iterations/v1_baseline/",
            "entry_point": "main.py",
            "parameters": {},
            "parent": None,
            "created_at": "2025-02-14T10:00:00Z",
            "tags": ["baseline", "classical"],
        },
        {
            "id": "v2-transformer",
            "name": "DistilBERT Fine-tuned",
            "description": "Fine-tuning de DistilBERT sur le dataset",
            "approach": "transformer",
            "source_path": "iterations/v2_transformer/",
            "entry_point": "main.py",
            "parameters": {"learning_rate": 2e-5, "epochs": 3, "batch_size": 16},
            "parent": None,
            "created_at": "2025-02-14T12:00:00Z",
            "tags": ["transformer", "fine-tuning"],
        },
        {
            "id": "v2-transformer-lr5e5",
            "name": "DistilBERT LR=5e-5",
            "description": "Même approche, learning rate augmenté",
            "approach": "transformer",
            "source_path": "iterations/v2_transformer/",
            "entry_point": "main.py",
            "parameters": {"learning_rate": 5e-5, "epochs": 3, "batch_size": 16},
            "parent": "v2-transformer",
            "created_at": "2025-02-14T14:00:00Z",
            "tags": ["transformer", "hyperparameter-tuning"],
        },
    ],
}

SEED_METRICS = {
    "$schema": "metrics-schema.json",
    "metrics": [
        {
            "id": "accuracy",
            "name": "Classification Accuracy",
            "description": "Proportion of correct predictions",
            "type": "ml_quality",
            "class": "benchmarks.metrics.ml_quality.AccuracyMetric",
            "higher_is_better": True,
            "unit": "%",
        },
        {
            "id": "f1_macro",
            "name": "F1 Score (Macro)",
            "description": "Harmonic mean of precision and recall, macro-averaged",
            "type": "ml_quality",
            "class": "benchmarks.metrics.ml_quality.F1MacroMetric",
            "higher_is_better": True,
            "unit": "",
        },
        {
            "id": "exec_time",
            "name": "Execution Time",
            "description": "Wall-clock time for training + inference",
            "type": "performance",
            "class": "benchmarks.metrics.timing.ExecutionTimeMetric",
            "higher_is_better": False,
            "unit": "seconds",
        },
        {
            "id": "gpu_memory",
            "name": "Peak GPU Memory",
            "description": "Maximum GPU memory allocated during execution",
            "type": "performance",
            "class": "benchmarks.metrics.timing.GpuMemoryMetric",
            "higher_is_better": False,
            "unit": "MB",
        },
    ],
}

SEED_RUNS = {
    "$schema": "runs-schema.json",
    "runs": [
        {
            "id": "run-001",
            "name": "Baseline vs Transformer — Quality",
            "description": "Comparer la qualité ML des deux approches principales",
            "iteration_ids": ["v1-baseline", "v2-transformer"],
            "metric_ids": ["accuracy", "f1_macro"],
            "status": "pending",
            "created_at": "2025-02-14T15:00:00Z",
        },
        {
            "id": "run-002",
            "name": "Transformer LR Sweep — Full",
            "description": "Comparer les variantes de learning rate sur toutes les métriques",
            "iteration_ids": ["v2-transformer", "v2-transformer-lr5e5"],
            "metric_ids": ["accuracy", "f1_macro", "exec_time", "gpu_memory"],
            "status": "pending",
            "created_at": "2025-02-14T15:30:00Z",
        },
    ],
}

SEED_RESULTS = {
    "$schema": "results-schema.json",
    "results": [
        {
            "run_id": "run-001",
            "iteration_id": "v1-baseline",
            "metric_id": "accuracy",
            "value": 82.3,
            "unit": "%",
            "executed_at": "2025-02-14T16:00:00Z",
            "environment": {"platform": "linux-x86_64", "python": "3.11.7", "gpu": None},
            "metadata": {"dataset_size": 10000, "train_split": 0.8},
        },
        {
            "run_id": "run-001",
            "iteration_id": "v2-transformer",
            "metric_id": "accuracy",
            "value": 91.7,
            "unit": "%",
            "executed_at": "2025-02-14T16:05:00Z",
            "environment": {"platform": "linux-x86_64", "python": "3.11.7", "gpu": "NVIDIA T4"},
            "metadata": {"dataset_size": 10000, "train_split": 0.8},
        },
    ],
}

SEED_DOCUMENTS = {
    "iterations": SEED_ITERATIONS,
    "metrics": SEED_METRICS,
    "runs": SEED_RUNS,
    "results": SEED_RESULTS,
}
