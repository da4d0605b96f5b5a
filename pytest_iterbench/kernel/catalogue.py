"""What the kernel may choose from: task kinds, approaches with their variants, metrics.

The model never writes a class path, a folder or a hyperparameter value: it
picks names from these tables (the grammar lists them), and the expander
looks everything else up here. Every approach's variants hold parameter
values a practitioner would try first on a laptop CPU.

>>> APPROACHES["classification"][0].name
'logreg'
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

Kind = Literal["classification", "regression", "clustering", "timeseries", "text", "images"]
KINDS: tuple[Kind, ...] = (
    "classification",
    "regression",
    "clustering",
    "timeseries",
    "text",
    "images",
)
VARIANTS = ("s", "m", "l")  # small, medium, large: the one hyperparameter judgment per approach


@dataclass(frozen=True)
class Approach:
    """One family of solutions; ``variants`` maps s/m/l to its parameters."""

    name: str
    family: str
    title: str
    variants: dict[str, dict[str, Any]]


@dataclass(frozen=True)
class MetricSpec:
    """A metric the kernel may propose; ``class_path`` None means a metric test measures it."""

    id: str
    name: str
    type: str
    higher_is_better: bool
    unit: str
    class_path: str | None = None


def _a(name: str, family: str, title: str, key: str, s: Any, m: Any, lg: Any) -> Approach:
    return Approach(name, family, title, {"s": {key: s}, "m": {key: m}, "l": {key: lg}})


APPROACHES: dict[Kind, tuple[Approach, ...]] = {
    "classification": (
        _a("logreg", "linear", "Logistic regression", "C", 0.1, 1.0, 10.0),
        _a("knn", "neighbours", "k-nearest neighbours", "n_neighbors", 3, 7, 15),
        _a("random_forest", "tree-ensemble", "Random forest", "n_estimators", 50, 200, 500),
        _a("gboost", "tree-ensemble", "Gradient boosting", "n_estimators", 50, 150, 400),
        _a("svm", "kernel", "Support vector machine (RBF)", "C", 0.3, 1.0, 3.0),
        _a("mlp", "neural-net", "Small multilayer perceptron", "hidden_units", 32, 128, 512),
    ),
    "regression": (
        _a("ridge", "linear", "Ridge regression", "alpha", 0.1, 1.0, 10.0),
        _a("lasso", "linear", "Lasso regression", "alpha", 0.001, 0.01, 0.1),
        _a(
            "random_forest",
            "tree-ensemble",
            "Random forest regressor",
            "n_estimators",
            50,
            200,
            500,
        ),
        _a("gboost", "tree-ensemble", "Gradient boosting regressor", "n_estimators", 50, 150, 400),
        _a("knn", "neighbours", "k-nearest neighbours regressor", "n_neighbors", 3, 7, 15),
        _a(
            "mlp",
            "neural-net",
            "Small multilayer perceptron regressor",
            "hidden_units",
            32,
            128,
            512,
        ),
    ),
    "clustering": (
        _a("kmeans", "centroid", "k-means", "n_clusters", 3, 8, 20),
        _a("gmm", "mixture", "Gaussian mixture", "n_components", 3, 8, 20),
        _a("dbscan", "density", "DBSCAN", "eps", 0.3, 0.5, 1.0),
        _a("agglomerative", "hierarchical", "Agglomerative clustering", "n_clusters", 3, 8, 20),
    ),
    "timeseries": (
        _a("naive", "baseline", "Seasonal naive forecast", "season", 1, 7, 12),
        _a("arima", "statistical", "ARIMA", "order_p", 1, 2, 5),
        _a("exp_smoothing", "statistical", "Exponential smoothing", "alpha", 0.1, 0.3, 0.7),
        _a("gboost_lags", "tree-ensemble", "Gradient boosting on lag features", "lags", 7, 14, 28),
        _a("lstm", "neural-net", "Small LSTM", "hidden_units", 16, 64, 128),
    ),
    "text": (
        _a(
            "tfidf_logreg",
            "linear",
            "TF-IDF + logistic regression",
            "max_features",
            5000,
            20000,
            100000,
        ),
        _a("naive_bayes", "probabilistic", "Bag of words + naive Bayes", "alpha", 0.1, 0.5, 1.0),
        _a("tfidf_svm", "kernel", "TF-IDF + linear SVM", "C", 0.3, 1.0, 3.0),
        _a(
            "embeddings_mlp",
            "neural-net",
            "Averaged embeddings + MLP",
            "embedding_dim",
            50,
            100,
            300,
        ),
        _a("small_transformer", "transformer", "Fine-tuned small transformer", "epochs", 1, 2, 4),
    ),
    "images": (
        _a("pixels_logreg", "linear", "Logistic regression on pixels", "C", 0.1, 1.0, 10.0),
        _a("hog_svm", "kernel", "HOG features + SVM", "C", 0.3, 1.0, 3.0),
        _a("small_cnn", "neural-net", "Small convolutional network", "filters", 16, 32, 64),
        _a(
            "pretrained_cnn",
            "transfer",
            "Pretrained CNN features + linear head",
            "epochs",
            1,
            3,
            10,
        ),
        _a(
            "random_forest",
            "tree-ensemble",
            "Random forest on pixels",
            "n_estimators",
            50,
            200,
            500,
        ),
    ),
}

_M = "pytest_iterbench.metrics."
COST_METRICS: tuple[MetricSpec, ...] = (
    MetricSpec(
        "execution_time",
        "Execution time",
        "performance",
        False,
        "seconds",
        _M + "ExecutionTimeMetric",
    ),
    MetricSpec("peak_memory", "Peak memory", "performance", False, "MB", _M + "PeakMemoryMetric"),
)
QUALITY_METRICS: dict[Kind, tuple[MetricSpec, ...]] = {
    "classification": (
        MetricSpec("accuracy", "Accuracy", "ml_quality", True, "%", _M + "AccuracyMetric"),
        MetricSpec("f1_macro", "Macro F1", "ml_quality", True, "", _M + "F1MacroMetric"),
        MetricSpec("roc_auc", "ROC AUC", "ml_quality", True, ""),
    ),
    "regression": (
        MetricSpec("rmse", "Root mean squared error", "ml_quality", False, ""),
        MetricSpec("mae", "Mean absolute error", "ml_quality", False, ""),
        MetricSpec("r2", "Coefficient of determination", "ml_quality", True, ""),
    ),
    "clustering": (
        MetricSpec("silhouette", "Silhouette score", "ml_quality", True, ""),
        MetricSpec("davies_bouldin", "Davies-Bouldin index", "ml_quality", False, ""),
        MetricSpec("adjusted_rand", "Adjusted Rand index", "ml_quality", True, ""),
    ),
    "timeseries": (
        MetricSpec("mae", "Mean absolute error", "ml_quality", False, ""),
        MetricSpec("mape", "Mean absolute percentage error", "ml_quality", False, "%"),
        MetricSpec("rmse", "Root mean squared error", "ml_quality", False, ""),
    ),
    "text": (
        MetricSpec("accuracy", "Accuracy", "ml_quality", True, "%", _M + "AccuracyMetric"),
        MetricSpec("f1_macro", "Macro F1", "ml_quality", True, "", _M + "F1MacroMetric"),
        MetricSpec("roc_auc", "ROC AUC", "ml_quality", True, ""),
    ),
    "images": (
        MetricSpec("accuracy", "Accuracy", "ml_quality", True, "%", _M + "AccuracyMetric"),
        MetricSpec("f1_macro", "Macro F1", "ml_quality", True, "", _M + "F1MacroMetric"),
    ),
}
MAX_APPROACHES = 4
REPEATS = (1, 3, 5)


def approach(kind: Kind, name: str) -> Approach:
    """The catalogue's approach ``name`` for ``kind`` (``KeyError`` if it has none)."""
    for candidate in APPROACHES[kind]:
        if candidate.name == name:
            return candidate
    raise KeyError(f"no approach {name!r} for {kind}; known: {[a.name for a in APPROACHES[kind]]}")


def metric(kind: Kind, metric_id: str) -> MetricSpec:
    """The catalogue's metric ``metric_id`` for ``kind``, cost metrics included."""
    for candidate in QUALITY_METRICS[kind] + COST_METRICS:
        if candidate.id == metric_id:
            return candidate
    raise KeyError(f"no metric {metric_id!r} for {kind}")


def metric_ids(kind: Kind) -> tuple[str, ...]:
    return tuple(m.id for m in QUALITY_METRICS[kind] + COST_METRICS)
