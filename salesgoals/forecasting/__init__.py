"""Forecast: what the team will create, win and close, with a checked range.

The package is ``forecasting`` so that ``sg.forecast`` can be the function.
"""

from salesgoals.forecasting._forecast import (
    BENCHMARKS,
    METHODS,
    BacktestResult,
    ForecastResult,
    backtest_forecast,
    forecast,
)

__all__ = ["METHODS", "BENCHMARKS", "forecast", "ForecastResult", "backtest_forecast", "BacktestResult"]
