"""The HTML report over an audit trail: ``gather`` reads the trail into plain data,
``charts`` draws that data as SVG, ``page`` puts both in one self-contained HTML file."""
