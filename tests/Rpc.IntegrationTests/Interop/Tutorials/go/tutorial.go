// The RabbitMQ tutorials' work queue, topic and RPC programs in one file, on amqp091-go (see ../README.md).
package main

import (
	"bufio"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"strconv"
	"strings"

	amqp "github.com/rabbitmq/amqp091-go"
)

func fib(n int) int {
	a, b := 0, 1
	for i := 0; i < n; i++ {
		a, b = b, a+b
	}
	return a
}

func must(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

func connect(uri string) (*amqp.Connection, *amqp.Channel) {
	conn, err := amqp.Dial(uri)
	must(err)
	ch, err := conn.Channel()
	must(err)
	return conn, ch
}

func declareTaskQueue(ch *amqp.Channel, queue string) {
	_, err := ch.QueueDeclare(queue, true, false, false, false, amqp.Table{"x-queue-type": "quorum"})
	must(err)
}

func newTask(uri, queue string, messages []string) {
	conn, ch := connect(uri)
	defer conn.Close()
	declareTaskQueue(ch, queue)
	for _, m := range messages {
		must(ch.Publish("", queue, false, false, amqp.Publishing{DeliveryMode: amqp.Persistent, ContentType: "text/plain", Body: []byte(m)}))
	}
	fmt.Printf("sent %d\n", len(messages))
}

func worker(uri, queue string, count int) {
	conn, ch := connect(uri)
	defer conn.Close()
	declareTaskQueue(ch, queue)
	must(ch.Qos(1, 0, false))
	deliveries, err := ch.Consume(queue, "", false, false, false, false, nil)
	must(err)
	fmt.Println("ready")
	for d := range deliveries {
		fmt.Println("received " + string(d.Body))
		must(d.Ack(false))
		count--
		if count == 0 {
			return
		}
	}
}

func declareTopic(ch *amqp.Channel, exchange string) {
	must(ch.ExchangeDeclare(exchange, "topic", false, false, false, false, nil))
}

func emitLogTopic(uri, exchange string, messages []string) {
	conn, ch := connect(uri)
	defer conn.Close()
	declareTopic(ch, exchange)
	fmt.Println("declared")
	bufio.NewReader(os.Stdin).ReadString('\n')
	for _, keyed := range messages {
		parts := strings.SplitN(keyed, "=", 2)
		must(ch.Publish(exchange, parts[0], false, false, amqp.Publishing{ContentType: "text/plain", Body: []byte(parts[1])}))
	}
	fmt.Printf("sent %d\n", len(messages))
}

func receiveLogsTopic(uri, exchange string, count int, keys []string) {
	conn, ch := connect(uri)
	defer conn.Close()
	declareTopic(ch, exchange)
	q, err := ch.QueueDeclare("", false, false, true, false, nil)
	must(err)
	for _, key := range keys {
		must(ch.QueueBind(q.Name, key, exchange, false, nil))
	}
	deliveries, err := ch.Consume(q.Name, "", true, false, false, false, nil)
	must(err)
	fmt.Println("ready")
	for d := range deliveries {
		fmt.Printf("received %s:%s\n", d.RoutingKey, string(d.Body))
		count--
		if count == 0 {
			return
		}
	}
}

func rpcServer(uri, queue string, count int) {
	conn, ch := connect(uri)
	defer conn.Close()
	_, err := ch.QueueDeclare(queue, false, false, false, false, nil)
	must(err)
	must(ch.Qos(1, 0, false))
	deliveries, err := ch.Consume(queue, "", false, false, false, false, nil)
	must(err)
	fmt.Println("ready")
	for d := range deliveries {
		n, err := strconv.Atoi(string(d.Body))
		must(err)
		must(ch.Publish("", d.ReplyTo, false, false, amqp.Publishing{ContentType: "text/plain", CorrelationId: d.CorrelationId,
			Body: []byte(strconv.Itoa(fib(n)))}))
		must(d.Ack(false))
		count--
		if count == 0 {
			return
		}
	}
}

func rpcClient(uri, queue string, numbers []string) {
	conn, ch := connect(uri)
	defer conn.Close()
	q, err := ch.QueueDeclare("", false, false, true, false, nil)
	must(err)
	replies, err := ch.Consume(q.Name, "", true, false, false, false, nil)
	must(err)
	for _, n := range numbers {
		id := make([]byte, 16)
		_, err := rand.Read(id)
		must(err)
		corrID := hex.EncodeToString(id)
		must(ch.Publish("", queue, false, false, amqp.Publishing{ContentType: "text/plain", CorrelationId: corrID, ReplyTo: q.Name, Body: []byte(n)}))
		for d := range replies {
			if d.CorrelationId == corrID {
				fmt.Printf("fib(%s)=%s\n", n, string(d.Body))
				break
			}
		}
	}
}

func main() {
	args := os.Args[2:]
	atoi := func(s string) int { n, err := strconv.Atoi(s); must(err); return n }
	switch os.Args[1] {
	case "new_task":
		newTask(args[0], args[1], args[2:])
	case "worker":
		worker(args[0], args[1], atoi(args[2]))
	case "emit_log_topic":
		emitLogTopic(args[0], args[1], args[2:])
	case "receive_logs_topic":
		receiveLogsTopic(args[0], args[1], atoi(args[2]), args[3:])
	case "rpc_server":
		rpcServer(args[0], args[1], atoi(args[2]))
	case "rpc_client":
		rpcClient(args[0], args[1], args[2:])
	default:
		fmt.Fprintln(os.Stderr, "unknown role "+os.Args[1])
		os.Exit(2)
	}
}
