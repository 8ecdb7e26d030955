"""The planner's dashboard (Plotly Dash). The only part of gscsd that imports Dash."""
