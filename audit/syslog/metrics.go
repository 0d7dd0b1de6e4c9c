package syslog

import "github.com/prometheus/client_golang/prometheus"

// Collector exposes the forwarder's figures to Prometheus:
//
//	atrest_syslog_backlog_entries                     journal entries not forwarded yet
//	atrest_syslog_sent_total                          messages written (repeats included)
//	atrest_syslog_resent_total                        messages sent again after a broken connection
//	atrest_syslog_errors_total                        failed connects, writes and cursor updates
//	atrest_syslog_last_success_timestamp_seconds      when a message was last written
func (f *Forwarder) Collector() prometheus.Collector { return collector{f} }

type collector struct{ f *Forwarder }

var (
	descBacklog = prometheus.NewDesc("atrest_syslog_backlog_entries", "Journal entries not yet forwarded to the syslog receiver.", nil, nil)
	descSent    = prometheus.NewDesc("atrest_syslog_sent_total", "Syslog messages written, repeats after a reconnect included.", nil, nil)
	descResent  = prometheus.NewDesc("atrest_syslog_resent_total", "Syslog messages sent again because their connection broke before they were confirmed.", nil, nil)
	descErrors  = prometheus.NewDesc("atrest_syslog_errors_total", "Failed syslog connects, writes and cursor updates.", nil, nil)
	descLast    = prometheus.NewDesc("atrest_syslog_last_success_timestamp_seconds", "When a syslog message was last written (Unix seconds; 0: never).", nil, nil)
)

func (collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descBacklog, descSent, descResent, descErrors, descLast} {
		ch <- d
	}
}

func (c collector) Collect(ch chan<- prometheus.Metric) {
	s := c.f.Stats()
	last := 0.0
	if !s.LastSuccess.IsZero() {
		last = float64(s.LastSuccess.UnixNano()) / 1e9
	}
	ch <- prometheus.MustNewConstMetric(descBacklog, prometheus.GaugeValue, float64(s.Backlog))
	ch <- prometheus.MustNewConstMetric(descSent, prometheus.CounterValue, float64(s.Sent))
	ch <- prometheus.MustNewConstMetric(descResent, prometheus.CounterValue, float64(s.Resent))
	ch <- prometheus.MustNewConstMetric(descErrors, prometheus.CounterValue, float64(s.Errors))
	ch <- prometheus.MustNewConstMetric(descLast, prometheus.GaugeValue, last)
}
